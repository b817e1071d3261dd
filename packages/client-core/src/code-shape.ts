// What a code looks like, without its word list or its crypto: enough for a page to tell a code
// from a key as it is typed, and for the client to know its defaults. The list (@scure/bip39) and
// the PAKE (@noble/curves) live in code-pairing.ts, which the client loads as its own chunk only
// when a code is asked for or joined (code-client.ts), so a bundle that never pairs by code does
// not carry them.

/** Words in a code by default: 22 bits of secret, one guess per code. */
export const DEFAULT_CODE_WORDS = 2;
/** The shape of a code: a nameplate, then two or more words. */
export const CODE_PATTERN = /^[0-9]+(-[a-z]+){2,}$/;

/** A typed code cleaned as parseCode cleans it (case; spaces and underscores for dashes). */
export const cleanCode = (typed: string): string =>
  typed
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-');

/**
 * Whether a typed line has a code's shape (a number, then two or more words), without checking
 * the words against the list: a tandem key (a UUID) never has it. `joinCode` checks the words.
 */
export const looksLikeCode = (typed: string): boolean => CODE_PATTERN.test(cleanCode(typed));
