// A token bucket per connection: `burst` tokens, refilled at `ratePerSecond`. The state lives on
// the connection record (two numbers) so an idle connection pays no extra object.

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
