// The nameplate book's data: a nameplate, where it stands, the book's limits, how one ended.

/** Where a nameplate stands. */
export type NameplateState =
  | { readonly kind: 'open' }
  | {
      readonly kind: 'claimed';
      readonly claimer: string;
      /** The node the claimer is on (null: this one). */
      readonly claimerNode: string | null;
      readonly deadline: number;
      readonly confirmed: Set<string>;
    }
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
  /** How long a claim of a nameplate held on another node waits for that node's answer. */
  readonly answerTimeoutMs?: number;
}

/** What ended a nameplate, for its owner (and claimer). */
export interface NameplateEnded {
  readonly nameplate: Nameplate;
  readonly reason: 'confirmed' | 'burnt' | 'expired' | 'replaced';
  readonly detail?: string;
  /** The claimer, when a claim ended. */
  readonly claimer?: string;
  /** The node the claimer is on, when not this one. */
  readonly claimerNode?: string | null;
}

/** Why a request was refused. */
export type Refusal = 'unknown' | 'burnt' | 'claimed' | 'rate_limited' | 'full';
