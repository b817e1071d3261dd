// Claims this node's clients made of nameplates another node holds, while that node's answer is
// on its way: one per claimer, given up after a timeout (the other node may be gone), so a
// client never waits for an answer that cannot come.

export class AwaitedClaims {
  private readonly waiting = new Map<string, { nameplate: string; deadline: number }>();

  /** `changed`: the earliest deadline may have moved. */
  constructor(
    private readonly timeoutMs: number,
    private readonly changed: () => void,
  ) {}

  /** `claimer` asked another node for nameplate `number` at `now`. */
  add(claimer: string, number: string, now: number): void {
    this.waiting.set(claimer, { nameplate: number, deadline: now + this.timeoutMs });
    this.changed();
  }

  /** The answer to `claimer`'s claim of `number` came: true if it was still awaited (and now is not). */
  answered(claimer: string, number: string): boolean {
    const w = this.waiting.get(claimer);
    if (w === undefined || w.nameplate !== number) return false;
    this.waiting.delete(claimer);
    this.changed();
    return true;
  }

  /** Whether `claimer` waits for an answer. */
  has(claimer: string): boolean {
    return this.waiting.has(claimer);
  }

  /** `claimer` is gone: nothing to wait for. */
  forget(claimer: string): void {
    if (this.waiting.delete(claimer)) this.changed();
  }

  /** Claims whose answer did not come by `now`: given up, and returned. */
  overdue(now: number): { claimer: string; nameplate: string }[] {
    const out: { claimer: string; nameplate: string }[] = [];
    for (const [claimer, w] of this.waiting)
      if (now >= w.deadline) {
        this.waiting.delete(claimer);
        out.push({ claimer, nameplate: w.nameplate });
      }
    if (out.length > 0) this.changed();
    return out;
  }

  /** The earliest deadline, or null. */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const w of this.waiting.values()) next = next === null ? w.deadline : Math.min(next, w.deadline);
    return next;
  }
}
