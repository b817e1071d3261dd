// @tandem/browser: client-core's transport, peer and file store over the browser's own WebSocket,
// RTCPeerConnection and storage. It installs alone: no Node package comes with it.
export * from './browser.js';
