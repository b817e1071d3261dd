// A timer wheel for many long timers at coarse granularity: time is cut into ticks, an entry is
// filed under the first tick at or after its due time, and refiling leaves the old filing behind
// as a stale entry that is skipped when its tick comes (cheaper than removing it). The wheel owns
// no timer: the host calls `advance(now)` and asks `nextWake()` when to call it again.

/** Something the wheel can file: it remembers the one tick it is currently filed under. */
export interface WheelEntry {
  /** Tick this entry is filed under; -1 when not filed. */
  wheelSlot: number;
}

/** Tick-granular timers over a caller-supplied clock (ms since the caller's epoch). */
export class TimerWheel<T extends WheelEntry> {
  /** Tick number → entries filed there (some may be stale). */
  private readonly slots = new Map<number, T[]>();
  /** The first tick not yet visited. */
  private nextTick = 0;
  /** Ticks looked at by `advance` so far (empty ones included): what a clock jump costs. */
  ticksScanned = 0;
  /** Filings so far: only a filing can bring the next wake forward, so a host re-reads it only when this moved. */
  filings = 0;

  constructor(
    /** Width of one tick in ms. */
    readonly tickMs: number,
  ) {}

  /** File `entry` to be visited at the first tick at or after `dueMs` (never in the past). */
  file(entry: T, dueMs: number): void {
    const tick = Math.max(Math.ceil(dueMs / this.tickMs), this.nextTick);
    this.filings++;
    entry.wheelSlot = tick;
    const list = this.slots.get(tick);
    if (list === undefined) this.slots.set(tick, [entry]);
    else list.push(entry);
  }

  /** Forget `entry`'s filing; its stale list entry is skipped later. */
  unfile(entry: T): void {
    entry.wheelSlot = -1;
  }

  /**
   * Visit every entry filed under a tick up to `nowMs`, in tick order, calling `visit` with the
   * entry unfiled (so it may refile itself). After a long pause only the ticks that hold entries
   * are visited, not every tick in between.
   */
  advance(nowMs: number, visit: (entry: T) => void): void {
    const lastTick = Math.floor(nowMs / this.tickMs);
    if (this.nextTick > lastTick) return;
    if (lastTick - this.nextTick > this.slots.size) {
      const due = [...this.slots.keys()].filter((tick) => tick <= lastTick).sort((a, b) => a - b);
      for (const tick of due) this.visitTick(tick, visit);
    } else {
      for (let tick = this.nextTick; tick <= lastTick; tick++) this.visitTick(tick, visit);
    }
    this.nextTick = lastTick + 1;
  }

  /** When (ms since epoch) `advance` next has an entry to visit, or null when nothing is filed. */
  nextWake(): number | null {
    if (this.slots.size === 0) return null;
    let earliest = Infinity;
    for (const tick of this.slots.keys()) if (tick < earliest) earliest = tick;
    return Math.max(earliest, this.nextTick) * this.tickMs;
  }

  /** Number of ticks that hold filings (stale ones included); for tests and metrics. */
  get filedTicks(): number {
    return this.slots.size;
  }

  /** Drop every filing. */
  clear(): void {
    for (const list of this.slots.values()) for (const entry of list) entry.wheelSlot = -1;
    this.slots.clear();
  }

  private visitTick(tick: number, visit: (entry: T) => void): void {
    this.ticksScanned++;
    const list = this.slots.get(tick);
    if (list === undefined) return;
    this.slots.delete(tick);
    for (const entry of list) {
      if (entry.wheelSlot !== tick) continue; // refiled elsewhere or unfiled: stale
      entry.wheelSlot = -1;
      visit(entry);
    }
  }
}
