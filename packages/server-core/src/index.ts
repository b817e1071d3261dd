// Public surface of @tandem/server-core.
export { ServerEngine, type ServerEngineOptions } from './engine.js';
export { AuthGrant, Connection, RemotePeer, mayResume, type Holder, type Principal } from './connection.js';
export { defaultServerSettings, resolveSettings, type ServerSettings } from './settings.js';
export {
  connectionCloses,
  type ConnectionClose,
  type CloseReasonCode,
  type DisconnectReason,
  type EffectSink,
  type ServerLogEvent,
  type ServerStats,
  type SignalType,
} from './effects.js';
export { addFromPeer } from './relay-frame.js';
export { TimerWheel, type WheelEntry } from './timer-wheel.js';
export { takeToken, type TokenBucketState } from './rate-limit.js';
export { scheduleEngine, type EngineTimers, type EngineSchedule } from './schedule.js';
export {
  UNKNOWN_TOKEN,
  type Directory,
  type DirectoryListener,
  type HandoverResult,
  type MaybePromise,
  type MovedSession,
  type NodeMessage,
  type PairOutcome,
  type PeerRef,
  type Registration,
} from './directory/directory.js';
export { InMemoryDirectory, MemoryHub } from './directory/memory-directory.js';
export {
  pairingMachine,
  pairingEvents,
  type PairingEvent,
  type PairingEffect,
  type TargetVerdict,
} from './pairing/pairing.machine.js';
export {
  keepaliveMachine,
  keepaliveEvents,
  type KeepaliveEvent,
  type KeepaliveEffect,
} from './keepalive/keepalive.machine.js';
export { compileMachine, type CompiledMachine, type CompiledTransition } from './compile.js';
