#!/usr/bin/env node
// Launcher committed in the source tree so npm links it at install time, before any build exists
// (a bin pointing into dist/ is silently not linked on a fresh clone). Runs the built entry point.
const entry = new URL('../dist/bin/tandem-conformance.js', import.meta.url);
await import(entry.href).catch((err) => {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes(entry.pathname)) throw err;
  console.error('tandem-conformance is not built yet: run `npm run build` (or `npm install`) in the tandem checkout.');
  process.exit(1);
});
