// Public surface of @tandem/client-core.
export { clientMachine, clientInputDefaults, serverEvent } from './client.machine.js';
export type {
  ClientActor,
  ClientContext,
  ClientEffect,
  ClientEmitted,
  ClientEvent,
  ClientInput,
  ClientPublicEvent,
  ClientErrorSource,
  ClientErrorCode,
  PeerData,
  PeerLeftReason,
  ServerEvent,
} from './client.machine.js';
export {
  createTandemClient,
  statusOf,
  type TandemClient,
  type TandemClientOptions,
  type TandemClientEvent,
  type ClientStatus,
} from './client.js';
export { createSignalingDriver, type SignalingDriver, type SignalingEffect } from './signaling-driver.js';
export { createPeerDriver, type PeerDriver, type PeerEffect } from './peer-driver.js';
export { exponentialBackoff, mediaKindOf } from './ports.js';
export { plainWords, unreachableWords } from './words.js';
export {
  TandemChannel,
  ChannelError,
  channelLimitDefaults,
  fragmentsOf,
  maxMessageSizeOf,
  Reassembler,
  INTEROPERABLE_MESSAGE_BYTES,
  type ChannelErrorCode,
  type ChannelEvents,
  type ChannelLimits,
} from './channels.js';
export { ChannelHub, CHAT_PROTOCOL, CONTROL_LABEL, type PeerFeatures, type ChannelHubOptions } from './channel-hub.js';
export type { PeerChannelOptions } from './peer-driver.js';
// The code pairing's crypto (word list, PAKE, confirmations) is at @tandem/client-core/codes: a
// static re-export here would pull it into every bundle that imports this entry (esbuild splits by
// file reachability), where the client loads it as its own chunk only when a code is used.
export { CODE_PATTERN, DEFAULT_CODE_WORDS, looksLikeCode } from './code-shape.js';
export type { CodeCall, CodeOutcome } from './code-pairing.js';
export { CodeClient, type CodeEvent } from './code-client.js';
// file transfers and safety codes load as chunks of their own: their code is exported through
// aliases (lazy-files.ts), the light parts straight from where they live
export { fingerprintsOf, normalizeFingerprint } from './fingerprints.js';
export { CHANNELS_FEATURE, FILES_FEATURE, SAFETY_FEATURE, FILES_LABEL, FILE_DATA_PREFIX } from './features.js';
export { runSafetyExchange, safetyCode, safetyCommitment } from './lazy-safety.js';
export type { SafetyOutcome } from './safety-code.js';
export { numberedName, safeFileName } from './file-names.js';
export { FileTransfers, nobleSha256 } from './lazy-files.js';
export type {
  FileOffer,
  FileSink,
  FileSource,
  FilesOptions,
  Hasher,
  HasherFactory,
  OfferDecision,
  OfferHandler,
  Transfer,
  TransferEvent,
} from './files.js';
export type {
  CandidateType,
  Clock,
  DataChannelHandlers,
  DataChannelInit,
  DataChannelPort,
  IceServer,
  PeerFactory,
  PeerFingerprints,
  SelectedPath,
  PeerHandlers,
  PeerSession,
  ReconnectContext,
  ReconnectPolicy,
  SignalingTransport,
  TransportFactory,
  TransportOptions,
  TokenSource,
  TransportHandlers,
  LocalTrack,
  MediaKind,
  MediaStats,
  RemoteTrack,
  TrackSender,
} from './ports.js';
export { CallError, MEDIA_FEATURE, type CallEvent, type CallState } from './media-shape.js';
export { CallManager } from './lazy-media.js';
