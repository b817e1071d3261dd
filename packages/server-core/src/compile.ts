// Compiles a context-free XState machine into a transition table, once, at start-up.
//
// Why: the benchmark budgets (an idle connection must cost less than PeerServer's ~6.2 KB,
// relays must cost no more than a bare JSON relay) rule out an actor, or even a snapshot, per
// connection: an XState v5 actor alone is ~3.5 KB. The machines stay the single source of truth
// — every row of the table is produced by XState's own pure `transition()` — and a connection
// carries one small integer per machine. Machines compiled here must keep all data out of
// `context`; facts that guards need travel in the (finite) event set.
import { initialTransition, transition, type AnyStateMachine, type EventObject } from 'xstate';

/** One row of a compiled table: where an event leads and what the machine emitted. */
export interface CompiledTransition<E extends EventObject> {
  readonly next: number;
  readonly emitted: readonly E[];
}

/** A machine as a dense table: states × events. */
export interface CompiledMachine<Ev extends EventObject, Em extends EventObject> {
  readonly states: readonly string[];
  readonly initial: number;
  readonly events: readonly Ev[];
  /** `table[state][event]` */
  readonly table: readonly (readonly CompiledTransition<Em>[])[];
  /** Index of a state by name (throws on an unknown name, so typos fail at start-up). */
  state(name: string): number;
  /** Index of an event in `events` by structural equality. */
  event(ev: Ev): number;
  /** Whether the state at this index is final. */
  isFinal(state: number): boolean;
}

const key = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** Walk every reachable state of `machine` under `events` with `transition()` and tabulate it. */
export function compileMachine<Ev extends EventObject, Em extends EventObject>(
  machine: AnyStateMachine,
  events: readonly Ev[],
): CompiledMachine<Ev, Em> {
  const [initialSnapshot, entryActions] = initialTransition(machine);
  if (entryActions.length > 0)
    throw new Error(`compileMachine: ${machine.id} runs entry actions; it must start silent`);
  const snapshots = new Map<string, ReturnType<AnyStateMachine['resolveState']>>();
  const states: string[] = [];
  const finals: boolean[] = [];
  const queue = [initialSnapshot];
  const add = (snap: ReturnType<AnyStateMachine['resolveState']>): number => {
    const k = key(snap.value);
    let i = states.indexOf(k);
    if (i === -1) {
      if (Object.keys(snap.context ?? {}).length > 0)
        throw new Error(`compileMachine: ${machine.id} keeps context; it must be context-free`);
      i = states.push(k) - 1;
      finals.push(snap.status === 'done');
      snapshots.set(k, snap);
      queue.push(snap);
    }
    return i;
  };
  add(initialSnapshot);
  queue.shift();
  const rows: CompiledTransition<Em>[][] = [];
  for (let s = 0; s < states.length; s++) {
    const snap = snapshots.get(states[s]!)!;
    rows[s] = events.map((ev) => {
      if (snap.status === 'done') return { next: s, emitted: [] };
      const [nextSnap, actions] = transition(machine, snap, ev);
      const emitted = actions
        .filter((a) => (a.type as string) === 'xstate.emit')
        .map((a) => (a as unknown as { params: { event: Em } }).params.event);
      const unknown = actions.filter((a) => (a.type as string) !== 'xstate.emit');
      if (unknown.length > 0)
        throw new Error(
          `compileMachine: ${machine.id} runs actions (${unknown.map((a) => a.type).join()}); use emit()`,
        );
      return { next: add(nextSnap), emitted };
    });
  }
  const eventKeys = events.map(key);
  return {
    states,
    initial: 0,
    events,
    table: rows,
    state(name) {
      const i = states.indexOf(key(name));
      if (i === -1) throw new Error(`compileMachine: ${machine.id} has no reachable state ${name}`);
      return i;
    },
    event(ev) {
      const i = eventKeys.indexOf(key(ev));
      if (i === -1) throw new Error(`compileMachine: ${machine.id} was not compiled for ${key(ev)}`);
      return i;
    },
    isFinal: (s) => finals[s] ?? false,
  };
}
