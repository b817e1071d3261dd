// Public surface of @tandem/server-core.
export { ServerEngine, Connection, defaultServerSettings, addFromPeer } from './engine.js';
export type { ServerSettings, ServerEngineOptions, EffectSink, ServerLogEvent, ServerStats, CloseReason } from './engine.js';
export { InMemoryDirectory, type ConnectionDirectory } from './directory.js';
export { pairingMachine, pairingEvents, type PairingEvent, type PairingEffect, type TargetVerdict } from './pairing.machine.js';
export { keepaliveMachine, keepaliveEvents, type KeepaliveEvent, type KeepaliveEffect } from './keepalive.machine.js';
export { compileMachine, type CompiledMachine, type CompiledTransition } from './compile.js';
