// @tandem/client-core/codes: pairing by code's word list, PAKE (CPace over ristretto255, from
// @noble/curves) and confirmations, for tools and tests that run an exchange themselves. The
// client (createTandemClient) loads these on its own, as a separate chunk, when a code is used.
export {
  CODE_PATTERN,
  CODE_WORDS,
  DEFAULT_CODE_WORDS,
  codeBits,
  confirmationTag,
  confirmationTranscript,
  looksLikeCode,
  makeCode,
  parseCode,
  runCodeExchange,
  type CodeCall,
  type CodeOutcome,
} from './code-pairing.js';
export * as cpace from './cpace.js';
