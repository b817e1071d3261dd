// A token bucket per address: nameplates asked for and claims made, `perMinute` of them a minute
// for each address. Bounded: past 100 000 addresses the table starts again (an attacker with that
// many addresses only resets everyone's count).

export class AddressBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute: number) {}

  /** Take one of `address`'s tokens at `now` (ms); false when it has none left. */
  take(address: string, now: number): boolean {
    const rate = this.perMinute;
    const b = this.buckets.get(address) ?? { tokens: rate, at: now };
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 60_000);
    b.at = now;
    if (this.buckets.size > 100_000) this.buckets.clear();
    this.buckets.set(address, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
