// Pairing by code beyond what the client needs at once, in one module the client imports when a
// code is first asked for or joined (code-client.ts): the engine (code-engine.ts), the word list,
// the PAKE and the confirmations. Bundlers put it in a chunk of its own, so an app that never
// pairs by code never loads @noble/curves or the list.
export { makeCode, parseCode, prepareCodeShare, runCodeExchange } from './code-pairing.js';
export { runReconfirm } from './code-reconfirm.js';
export { CodeEngine } from './code-engine.js';
