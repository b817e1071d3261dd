// The package's exports of code the client loads as chunks of their own (file transfers, safety
// codes), as aliases rather than re-exports. A bundler (esbuild, at least) puts a file that an
// included module imports or re-exports into the initial load, even when only a dynamic import
// uses it; an alias in a module nobody imports from leaves that module out, and with it the edge.
// So an app that never names FileTransfers still gets files.ts as a chunk of its own.
import { FileTransfers as Transfers, nobleSha256 as sha256 } from './files.js';

/** File transfer over one call's channels (createTandemClient runs one per call). */
export const FileTransfers = Transfers;
export type FileTransfers = Transfers;
/** Makes hashers: @noble/hashes' SHA-256. */
export const nobleSha256 = sha256;
