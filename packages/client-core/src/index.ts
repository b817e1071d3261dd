// Public surface of @tandem/client-core.
export { clientMachine } from './client.machine.js';
export type { ClientActor, ClientContext, ClientEffect, ClientEmitted, ClientEvent, ClientInput, ClientPublicEvent, ClientErrorSource, PeerData } from './client.machine.js';
export { createTandemClient, statusOf, type TandemClient, type TandemClientOptions, type ClientStatus } from './client.js';
export { exponentialBackoff } from './ports.js';
export type { IceServer, PeerFactory, PeerHandlers, PeerSession, ReconnectContext, ReconnectPolicy, SignalingTransport, TransportFactory, TransportHandlers } from './ports.js';
