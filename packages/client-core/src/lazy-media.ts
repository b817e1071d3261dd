// The call manager as a package export, an alias rather than a re-export (see lazy-files.ts): an
// app that never names CallManager gets media.ts as a chunk of its own.
import { CallManager as Manager } from './media.js';

/** Calls on a client's sessions (createTandemClient runs one per client). */
export const CallManager = Manager;
export type CallManager = Manager;
