// The API reference: TypeDoc over every public entry of every package (each package.json's
// `exports`, read from source), into docs/api/ (`npm run docs`; not committed). CI builds it with
// warnings as errors (packages/adapters/test/api-docs.test.ts), so a broken link or an exported
// name missing from the reference fails the build.
import { readFileSync } from 'node:fs';

/** Every published package, in dependency order (the TypeDoc plugin names modules from the same list). */
export const packages = [
  'packages/protocol',
  'packages/server-core',
  'packages/client-core',
  'packages/browser',
  'packages/adapters',
  'conformance',
];
const entryPoints = packages.flatMap((dir) => {
  const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
  return Object.values(pkg.exports)
    .map((v) => (typeof v === 'object' ? v['@tandem/source'] : undefined))
    .filter((src) => typeof src === 'string' && src.endsWith('.ts'))
    .map((src) => `${dir}/${src.replace(/^\.\//, '')}`);
});

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'tandem',
  entryPoints,
  tsconfig: 'tsconfig.typedoc.json',
  out: 'docs/api',
  readme: 'none',
  plugin: ['./scripts/typedoc-names.mjs'],
  excludePrivate: true,
  excludeInternal: true,
  githubPages: false,
  disableSources: true,
  treatWarningsAsErrors: true,
  hideGenerator: true,
  validation: { notExported: true, invalidLink: true, notDocumented: false },
};
