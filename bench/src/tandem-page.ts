// The bench's tandem page: the client core with the browser adapter and nothing else (no UI), as
// an embedder's page would hold them, so that a figure against PeerJS (whose bench page is its
// library on a blank page) compares the libraries, not the demo page's rendering. The bench
// bundles this into a script and adds it to a blank page; `startTandem(url)` resolves with the key.
import { createTandemClient, type TandemClient } from '@tandem/client-core';
import { browserPeerFactory, browserTransport } from '@tandem/browser';

declare global {
  interface Window {
    tandem: TandemClient;
    startTandem(url: string, features?: readonly string[]): Promise<string>;
  }
}

window.startTandem = (url, features) => {
  const client = createTandemClient({
    url,
    transport: browserTransport(),
    createPeer: browserPeerFactory(),
    ...(features !== undefined ? { features } : {}),
  });
  window.tandem = client;
  return new Promise((resolve) => client.on('id', ({ id }) => resolve(id)));
};
