// Design check, run in its own process with --expose-gc: heap per idle connection of the engine's
// compiled-table record, against one XState v5 actor per machine per connection (the obvious
// design the engine avoids). Prints one JSON line.
import { createActor } from 'xstate';
import { ServerEngine, keepaliveMachine, pairingMachine } from '@tandem/server-core';

const N = Number(process.argv[2] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

let seq = 0;
const engine = new ServerEngine<object>({
  generateId: () => `00000000-0000-4000-8000-${(++seq).toString(16).padStart(12, '0')}`,
  random: Math.random,
  sink: { send: () => undefined, ping: () => undefined, close: () => undefined },
});
// warm both paths so code and hidden classes are not counted
for (let i = 0; i < 100; i++) {
  engine.closed(engine.open({}, 0), 0);
  createActor(pairingMachine).start().stop();
  createActor(keepaliveMachine).start().stop();
}
const handles = Array.from({ length: N }, () => ({}));
const h0 = heap();
const conns = handles.map((h) => engine.open(h, 0));
const h1 = heap();
const actors = handles.map(() => [createActor(pairingMachine).start(), createActor(keepaliveMachine).start()]);
const h2 = heap();
console.log(
  JSON.stringify({
    connections: N,
    engineBytesPerConnection: (h1 - h0) / N,
    actorBytesPerConnection: (h2 - h1) / N,
    kept: conns.length + actors.length,
  }),
);
