// @tandem/adapters/browser: the browser bindings, which live in @tandem/browser so that a page
// installs them without the Node side's packages (werift, ioredis, pino, prom-client, ws).
export * from '@tandem/browser';
