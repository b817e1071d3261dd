// Nameplates for pairing by code (capability `codes`): the short numbers at the head of a code.
// Pure data with its clock passed in: which numbers are taken, by whom, and where each claim
// stands. The smallest free number goes first, so codes stay short; a number is free again once
// its nameplate is confirmed, expires, or (burnt) its time is up.
//
// One guess per code: a nameplate takes one claim. A claim that does not end with both sides
// confirming (a failed confirmation, a disconnect, a leave, a timeout) burns the nameplate: it can
// never be claimed again, and its owner must make a new code.

import { AddressBuckets } from './address-buckets.js';
import { AwaitedClaims } from './awaited-claims.js';

import type { Nameplate, NameplateEnded, NameplateLimits, Refusal } from './nameplate-types.js';
export type { Nameplate, NameplateEnded, NameplateLimits, NameplateState, Refusal } from './nameplate-types.js';

export class NameplateBook {
  private readonly byNumber = new Map<string, Nameplate>();
  private readonly byOwner = new Map<string, Nameplate>();
  private readonly byClaimer = new Map<string, Nameplate>();
  /** Requests and claims per address. */
  private readonly buckets: AddressBuckets;
  /** Burns so far (for metrics). */
  burnt = 0;
  confirmed = 0;
  /**
   * The earliest deadline, kept until the book changes (undefined: to be worked out again), so a
   * keepalive tick or a connection's open asks in O(1) and scans only when something is due.
   */
  private next: number | null | undefined = null;

  /** Claims this node's clients made of nameplates held on other nodes, waiting for the answer. */
  readonly awaiting: AwaitedClaims;

  /** `onFree`: a number is free again (the directory hears of it, so any node may hand it out). */
  constructor(
    readonly limits: NameplateLimits,
    private readonly onFree: (number: string) => void = () => undefined,
  ) {
    this.buckets = new AddressBuckets(limits.perAddressPerMinute);
    this.awaiting = new AwaitedClaims(limits.answerTimeoutMs ?? 10_000, () => (this.next = undefined));
  }

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
    return address === null || this.buckets.take(address, now);
  }

  /**
   * Whether `owner` may have a new nameplate now: not while its own is being claimed, not past
   * its address's rate, not when this node holds as many as it may (the one it would replace aside).
   */
  admitRequest(owner: string, address: string | null, now: number): Refusal | null {
    const held = this.byOwner.get(owner);
    if (held?.state.kind === 'claimed') return 'claimed';
    if (!this.admit(address, now)) return 'rate_limited';
    if (this.byNumber.size - (held?.state.kind === 'open' ? 1 : 0) >= this.limits.max) return 'full';
    return null;
  }

  /** Whether `address` may make one more claim now (for a claim of a nameplate held on another node). */
  admitClaim(address: string | null, now: number): boolean {
    return this.admit(address, now);
  }

  /**
   * `owner` is about to have a new nameplate: the one it held open is released (returned as
   * `replaced`, so its number may be handed out again); a burnt one is kept until it would expire.
   */
  replaceHeld(owner: string): NameplateEnded | null {
    const held = this.byOwner.get(owner);
    if (held === undefined || held.state.kind === 'claimed') return null;
    this.forgetOwner(held);
    if (held.state.kind !== 'open') return null;
    this.byNumber.delete(held.number);
    this.onFree(held.number);
    this.next = undefined;
    return { nameplate: held, reason: 'replaced' };
  }

  /** `owner`'s new nameplate, on `number` (the directory's smallest free one). */
  place(owner: string, number: string, now: number): Nameplate {
    const nameplate: Nameplate = { number, owner, expiresAt: now + this.limits.ttlMs, state: { kind: 'open' } };
    this.byNumber.set(number, nameplate);
    this.byOwner.set(owner, nameplate);
    this.next = undefined;
    return nameplate;
  }

  /** `claimer` claims `number`: the one claim it will ever have. */
  claim(
    number: string,
    claimer: string,
    address: string | null,
    now: number,
    claimerNode: string | null = null,
  ): { ok: true; nameplate: Nameplate } | { ok: false; refusal: Refusal } {
    const n = this.byNumber.get(number);
    if (n === undefined || n.owner === claimer) return { ok: false, refusal: 'unknown' };
    if (n.state.kind === 'burnt') return { ok: false, refusal: 'burnt' };
    if (n.state.kind === 'claimed') return { ok: false, refusal: 'claimed' };
    if (!this.admit(address, now)) return { ok: false, refusal: 'rate_limited' };
    n.state = {
      kind: 'claimed',
      claimer,
      claimerNode,
      deadline: now + this.limits.claimTimeoutMs,
      confirmed: new Set(),
    };
    this.next = undefined;
    this.byClaimer.set(claimer, n);
    return { ok: true, nameplate: n };
  }

  /** A claim that never became a pairing (the owner was busy, or gone): the nameplate is open again. */
  unclaim(n: Nameplate, claimer?: string): void {
    if (n.state.kind !== 'claimed' || (claimer !== undefined && n.state.claimer !== claimer)) return;
    this.byClaimer.delete(n.state.claimer);
    n.state = { kind: 'open' };
    this.next = undefined;
  }

  /** `id` confirmed its side of the claim; both: the nameplate is released (returned). */
  confirm(id: string): NameplateEnded | null {
    const n = this.claimOf(id);
    if (n === undefined || n.state.kind !== 'claimed') return null;
    n.state.confirmed.add(id);
    const { claimer, claimerNode } = n.state;
    if (!(n.state.confirmed.has(n.owner) && n.state.confirmed.has(claimer))) return null;
    this.release(n);
    this.confirmed++;
    return { nameplate: n, reason: 'confirmed', claimer, claimerNode };
  }

  /** The nameplate `number`, if this book holds it. */
  get(number: string): Nameplate | undefined {
    return this.byNumber.get(number);
  }

  /** The claim `id` takes part in did not end in confirmation: burn it (null if there is none, or it was confirmed). */
  burn(id: string, detail: string): NameplateEnded | null {
    const n = this.claimOf(id);
    if (n === undefined) return null;
    return this.burnNameplate(n, detail);
  }

  private burnNameplate(n: Nameplate, detail: string): NameplateEnded {
    const claimer = n.state.kind === 'claimed' ? n.state.claimer : null;
    const claimerNode = n.state.kind === 'claimed' ? n.state.claimerNode : null;
    if (claimer !== null) this.byClaimer.delete(claimer);
    this.forgetOwner(n); // the owner may ask for a new one at once
    n.state = { kind: 'burnt' }; // kept until it would have expired, so a late claim hears "burnt"
    this.next = undefined;
    this.burnt++;
    return claimer === null
      ? { nameplate: n, reason: 'burnt', detail }
      : { nameplate: n, reason: 'burnt', detail, claimer, claimerNode };
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
    const w = this.awaiting.nextDeadline();
    if (w !== null) next = next === null ? w : Math.min(next, w);
    return (this.next = next);
  }

  private release(n: Nameplate): void {
    if (n.state.kind === 'claimed') this.byClaimer.delete(n.state.claimer);
    this.byNumber.delete(n.number);
    this.onFree(n.number);
    this.forgetOwner(n);
    this.next = undefined;
  }
  private forgetOwner(n: Nameplate): void {
    if (this.byOwner.get(n.owner) === n) this.byOwner.delete(n.owner);
  }
}
