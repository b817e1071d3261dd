// Nameplates for pairing by code (capability `codes`): the short numbers at the head of a code.
// Pure data with its clock passed in: which numbers are taken, by whom, and where each claim
// stands. The smallest free number goes first, so codes stay short; a number is free again once
// its nameplate is confirmed, expires, or (burnt) its time is up.
//
// One guess per code: a nameplate takes one claim. A claim that does not end with both sides
// confirming (a failed confirmation, a disconnect, a leave, a timeout) burns the nameplate: it can
// never be claimed again, and its owner must make a new code.

/** Where a nameplate stands. */
export type NameplateState =
  | { readonly kind: 'open' }
  | { readonly kind: 'claimed'; readonly claimer: string; readonly deadline: number; readonly confirmed: Set<string> }
  | { readonly kind: 'burnt' };

export interface Nameplate {
  readonly number: string;
  readonly owner: string;
  /** Engine ms after which an open nameplate expires (and a burnt one is forgotten). */
  readonly expiresAt: number;
  state: NameplateState;
}

/** Limits of a book. */
export interface NameplateLimits {
  readonly ttlMs: number;
  readonly claimTimeoutMs: number;
  /** Nameplates asked for, plus claims made, per address per minute. */
  readonly perAddressPerMinute: number;
  /** Nameplates held at once (open, claimed or burnt). */
  readonly max: number;
}

/** What ended a nameplate, for its owner (and claimer). */
export interface NameplateEnded {
  readonly nameplate: Nameplate;
  readonly reason: 'confirmed' | 'burnt' | 'expired' | 'replaced';
  readonly detail?: string;
  /** The claimer, when a claim ended. */
  readonly claimer?: string;
}

/** Why a request was refused. */
export type Refusal = 'unknown' | 'burnt' | 'claimed' | 'rate_limited' | 'full';

export class NameplateBook {
  private readonly byNumber = new Map<string, Nameplate>();
  private readonly byOwner = new Map<string, Nameplate>();
  private readonly byClaimer = new Map<string, Nameplate>();
  /** Token buckets per address: tokens left and when they were counted. */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Burns so far (for metrics). */
  burnt = 0;
  confirmed = 0;
  /**
   * The earliest deadline, kept until the book changes (undefined: to be worked out again), so a
   * keepalive tick or a connection's open asks in O(1) and scans only when something is due.
   */
  private next: number | null | undefined = null;

  constructor(readonly limits: NameplateLimits) {}

  get size(): number {
    return this.byNumber.size;
  }

  /** The nameplate `owner` holds (open, claimed or burnt), if any. */
  ownedBy(owner: string): Nameplate | undefined {
    return this.byOwner.get(owner);
  }

  /** The claim `id` takes part in, as owner or claimer, if any. */
  claimOf(id: string): Nameplate | undefined {
    const n = this.byClaimer.get(id) ?? this.byOwner.get(id);
    return n?.state.kind === 'claimed' ? n : undefined;
  }

  /** Take one of `address`'s tokens; false when it has none left. */
  private admit(address: string | null, now: number): boolean {
    if (address === null) return true;
    const rate = this.limits.perAddressPerMinute;
    const b = this.buckets.get(address) ?? { tokens: rate, at: now };
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 60_000);
    b.at = now;
    if (this.buckets.size > 100_000) this.buckets.clear(); // bounded: an attacker with many addresses only resets everyone's
    this.buckets.set(address, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /**
   * A new nameplate for `owner`, the smallest free number. It replaces one the owner held open
   * (returned as `replaced`); an owner whose nameplate is being claimed cannot have another yet.
   */
  allocate(
    owner: string,
    address: string | null,
    now: number,
  ): { ok: true; nameplate: Nameplate; replaced: NameplateEnded | null } | { ok: false; refusal: Refusal } {
    const held = this.byOwner.get(owner);
    if (held?.state.kind === 'claimed') return { ok: false, refusal: 'claimed' };
    if (!this.admit(address, now)) return { ok: false, refusal: 'rate_limited' };
    let replaced: NameplateEnded | null = null;
    if (held !== undefined) {
      this.forgetOwner(held);
      if (held.state.kind === 'open') {
        this.byNumber.delete(held.number);
        replaced = { nameplate: held, reason: 'replaced' };
      }
    }
    if (this.byNumber.size >= this.limits.max) return { ok: false, refusal: 'full' };
    let n = 1;
    while (this.byNumber.has(String(n))) n++;
    const nameplate: Nameplate = {
      number: String(n),
      owner,
      expiresAt: now + this.limits.ttlMs,
      state: { kind: 'open' },
    };
    this.byNumber.set(nameplate.number, nameplate);
    this.byOwner.set(owner, nameplate);
    this.next = undefined;
    return { ok: true, nameplate, replaced };
  }

  /** `claimer` claims `number`: the one claim it will ever have. */
  claim(
    number: string,
    claimer: string,
    address: string | null,
    now: number,
  ): { ok: true; nameplate: Nameplate } | { ok: false; refusal: Refusal } {
    const n = this.byNumber.get(number);
    if (n === undefined || n.owner === claimer) return { ok: false, refusal: 'unknown' };
    if (n.state.kind === 'burnt') return { ok: false, refusal: 'burnt' };
    if (n.state.kind === 'claimed') return { ok: false, refusal: 'claimed' };
    if (!this.admit(address, now)) return { ok: false, refusal: 'rate_limited' };
    n.state = { kind: 'claimed', claimer, deadline: now + this.limits.claimTimeoutMs, confirmed: new Set() };
    this.next = undefined;
    this.byClaimer.set(claimer, n);
    return { ok: true, nameplate: n };
  }

  /** A claim that never became a pairing (the owner was busy, or gone): the nameplate is open again. */
  unclaim(n: Nameplate): void {
    if (n.state.kind !== 'claimed') return;
    this.byClaimer.delete(n.state.claimer);
    n.state = { kind: 'open' };
    this.next = undefined;
  }

  /** `id` confirmed its side of the claim; both: the nameplate is released (returned). */
  confirm(id: string): NameplateEnded | null {
    const n = this.claimOf(id);
    if (n === undefined || n.state.kind !== 'claimed') return null;
    n.state.confirmed.add(id);
    const claimer = n.state.claimer;
    if (!(n.state.confirmed.has(n.owner) && n.state.confirmed.has(claimer))) return null;
    this.release(n);
    this.confirmed++;
    return { nameplate: n, reason: 'confirmed', claimer };
  }

  /** The claim `id` takes part in did not end in confirmation: burn it (null if there is none, or it was confirmed). */
  burn(id: string, detail: string): NameplateEnded | null {
    const n = this.claimOf(id);
    if (n === undefined) return null;
    return this.burnNameplate(n, detail);
  }

  private burnNameplate(n: Nameplate, detail: string): NameplateEnded {
    const claimer = n.state.kind === 'claimed' ? n.state.claimer : null;
    if (claimer !== null) this.byClaimer.delete(claimer);
    this.forgetOwner(n); // the owner may ask for a new one at once
    n.state = { kind: 'burnt' }; // kept until it would have expired, so a late claim hears "burnt"
    this.next = undefined;
    this.burnt++;
    return claimer === null
      ? { nameplate: n, reason: 'burnt', detail }
      : { nameplate: n, reason: 'burnt', detail, claimer };
  }

  /** `owner` left: its open nameplate is released quietly; a claimed one is burnt. */
  ownerGone(owner: string): NameplateEnded | null {
    const n = this.byOwner.get(owner);
    if (n === undefined) return null;
    if (n.state.kind === 'claimed') return this.burnNameplate(n, 'its owner left during the exchange');
    this.release(n);
    return null;
  }

  /** Everything due at `now`: open nameplates expire, claims past their deadline burn, burnt ones are forgotten. */
  due(now: number): NameplateEnded[] {
    const next = this.nextDue();
    if (next === null || now < next) return [];
    const ended: NameplateEnded[] = [];
    for (const n of [...this.byNumber.values()]) {
      if (n.state.kind === 'claimed') {
        // a claim runs to its own deadline, whatever the nameplate's expiry
        if (now >= n.state.deadline) ended.push(this.burnNameplate(n, 'the exchange did not finish in time'));
      } else if (now >= n.expiresAt) {
        const open = n.state.kind === 'open';
        this.release(n);
        if (open) ended.push({ nameplate: n, reason: 'expired' });
      }
    }
    return ended;
  }

  /** The next time `due` has work, or null. */
  nextDue(): number | null {
    if (this.next !== undefined) return this.next;
    let next: number | null = null;
    for (const n of this.byNumber.values()) {
      const at = n.state.kind === 'claimed' ? n.state.deadline : n.expiresAt;
      next = next === null ? at : Math.min(next, at);
    }
    return (this.next = next);
  }

  private release(n: Nameplate): void {
    if (n.state.kind === 'claimed') this.byClaimer.delete(n.state.claimer);
    this.byNumber.delete(n.number);
    this.forgetOwner(n);
    this.next = undefined;
  }
  private forgetOwner(n: Nameplate): void {
    if (this.byOwner.get(n.owner) === n) this.byOwner.delete(n.owner);
  }
}
