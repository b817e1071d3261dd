// Token buckets per connection: `burst` tokens, refilled at `ratePerSecond`; one counts messages,
// one counts bytes. The state lives on the connection record (two numbers per bucket) so an idle
// connection pays no extra object.

/** The two numbers a bucket keeps. */
export interface TokenBucketState {
  /** Tokens left (fractional). */
  tokens: number;
  /** When (ms, engine clock) `tokens` was last brought up to date. */
  tokensAt: number;
}

/** Refill for the time passed, then take one token; false when the bucket is empty. */
export function takeToken(bucket: TokenBucketState, now: number, ratePerSecond: number, burst: number): boolean {
  bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.tokensAt) * ratePerSecond) / 1000);
  bucket.tokensAt = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

/** The byte bucket's two numbers, kept beside the message bucket's on the connection record. */
export interface ByteBucketState {
  byteTokens: number;
  byteTokensAt: number;
}

/** Refill for the time passed, then take `bytes` tokens; false when fewer are left. */
export function takeBytes(
  bucket: ByteBucketState,
  now: number,
  bytes: number,
  ratePerSecond: number,
  burst: number,
): boolean {
  bucket.byteTokens = Math.min(burst, bucket.byteTokens + ((now - bucket.byteTokensAt) * ratePerSecond) / 1000);
  bucket.byteTokensAt = now;
  if (bucket.byteTokens < bytes) return false;
  bucket.byteTokens -= bytes;
  return true;
}
