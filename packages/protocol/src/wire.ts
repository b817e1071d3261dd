// @tandem/protocol/wire: everything a client needs at run time — the codec with its generated
// checkers, the constants, the close and error codes, and resume's bookkeeping — and nothing that
// loads TypeBox. Browser bundles import from here (the message types come from the main entry as
// types only); the schemas, documents and examples stay in `@tandem/protocol`.
export * from './constants.js';
export * from './codec.js';
export * from './codes.js';
export { ResumeLedger } from './resume.js';
export type * from './messages.js';
