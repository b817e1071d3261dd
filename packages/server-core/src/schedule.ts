// Drives an engine's `advance` from its own `nextWake()`, on timers the host injects: the core
// still owns no clock, but no host has to guess a tick interval or poll. One timer is armed at a
// time, for the earliest wake; `poke()` after `open` or `closed` re-arms it if something new is due first.

/** The host's clock and timers. */
export interface EngineTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A running schedule. */
export interface EngineSchedule {
  /** Re-arm if the engine's next wake moved earlier (call after `open` and `closed`). */
  poke(): void;
  /** Disarm for good. */
  stop(): void;
}

/** The engine calls this needs: `advance` and `nextWake`. */
export interface Advanceable {
  advance(now: number): void;
  nextWake(): number | null;
}

/** Keep one timer armed at `engine.nextWake()` and advance the engine when it fires. */
export function scheduleEngine(engine: Advanceable, timers: EngineTimers): EngineSchedule {
  let handle: unknown = null;
  let armedFor: number | null = null;
  let stopped = false;
  const fire = (): void => {
    handle = null;
    armedFor = null;
    engine.advance(timers.now());
    arm();
  };
  const arm = (): void => {
    if (stopped) return;
    const wake = engine.nextWake();
    if (wake === null || (armedFor !== null && armedFor <= wake)) return;
    if (handle !== null) timers.clearTimeout(handle);
    armedFor = wake;
    // at least 1 ms: a clock a hair behind the wheel must not spin
    handle = timers.setTimeout(fire, Math.max(1, wake - timers.now()));
  };
  arm();
  return {
    poke: arm,
    stop() {
      stopped = true;
      if (handle !== null) timers.clearTimeout(handle);
      handle = null;
    },
  };
}
