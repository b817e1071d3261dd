// What the codes figure takes from the packages, in one place.
export { runCodeExchange } from '@tandem/client-core/codes';
export { createTandemClient, type ChannelHub, type PeerSession, type TandemClient } from '@tandem/client-core';
export { fakeFingerprint as fakeFingerprintFor } from '@tandem/client-core/testing';
