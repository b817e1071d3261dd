// Public surface of @tandem/protocol: schemas, types, codec and generated documents.
export * from './messages.js';
export * from './codec.js';
export * from './codes.js';
export { generateDocuments, asyncApiDocument } from './documents.js';
export { examples } from './examples.js';
export { ResumeLedger } from './resume.js';
