// The control channel's hello handshake on a stack that delivers the peer's first messages before
// this side's own 'open' event (Chromium does, on the side that opened the channel): what this
// side sends in answer to the peer's hello waits behind its own hello instead of being lost.
import { describe, expect, it } from 'vitest';
import { CHAT_PROTOCOL, ChannelHub } from './channel-hub.js';
import type { DataChannelHandlers, DataChannelPort, PeerSession } from './ports.js';

class Port implements DataChannelPort {
  readyState: DataChannelPort['readyState'];
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  other: Port | null = null;
  handlers: DataChannelHandlers | null = null;
  constructor(
    readonly label: string,
    open: boolean,
  ) {
    this.readyState = open ? 'open' : 'connecting';
  }
  readonly protocol = '';
  send(data: string | Uint8Array): void {
    if (this.readyState !== 'open') throw new Error('InvalidStateError: not open');
    this.other?.handlers?.message(data);
  }
  close(): void {
    this.readyState = 'closed';
  }
  setHandlers(handlers: DataChannelHandlers | null): void {
    this.handlers = handlers;
    if (handlers !== null && this.readyState === 'open') handlers.open();
  }
  /** The stack's late 'open' event. */
  opened(): void {
    this.readyState = 'open';
    this.handlers?.open();
  }
}

const clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined };

/**
 * An initiator A and a responder B with `features`; B opens tandem.control (`atB`, not open until
 * `atB.opened()`), which A takes as `atA` (open at once).
 */
function linkedHubs(features: string[]) {
  const atB = new Port('tandem.control', false);
  const atA = new Port('tandem.control', true);
  atB.other = atA;
  atA.other = atB;
  const session = (openChannel?: () => DataChannelPort) => ({ openChannel }) as unknown as PeerSession;
  const a = new ChannelHub(
    session(() => new Port('x', true)),
    { initiator: true, features, clock },
  );
  const b = new ChannelHub(
    session(() => atB),
    { initiator: false, features, clock },
  );
  return { atA, atB, a, b };
}

describe('ChannelHub control channel', () => {
  it("a control message sent when the peer's hello came before this side's 'open' goes out after this side's hello", () => {
    // B (the responder) opens tandem.control; the stack delivers A's hello before B hears 'open'
    const { atA, atB, a, b } = linkedHubs(['media']);
    const atAControl: string[] = [];
    a.onControl((m) => atAControl.push(m.t));
    let sentAtHello: boolean | null = null;
    b.onPeer(() => (sentAtHello = b.sendControl({ t: 'media.answer' })));
    a.chatOpened(CHAT_PROTOCOL);
    b.chatOpened(CHAT_PROTOCOL);
    a.incoming(atA); // A's side is open at once and says hello
    expect(sentAtHello).toBe(true); // B knows A now, its channel not yet open: held
    expect(atAControl).toEqual([]);
    atB.opened(); // B's hello, then what waited
    expect(atAControl).toEqual(['media.answer']);
    a.close();
    b.close();
  });

  it('a held hello waits for its feature to load; what is sent meanwhile follows it, and the peer knows this side only then', async () => {
    const { atA, atB, a, b } = linkedHubs(['files']);
    const atB_: string[] = [];
    b.onControl((m) => atB_.push(m.t));
    let loaded!: () => void;
    a.holdHello(new Promise<void>((resolve) => (loaded = resolve)));
    a.chatOpened(CHAT_PROTOCOL);
    b.chatOpened(CHAT_PROTOCOL);
    a.incoming(atA); // A takes B's channel, open at once; its hello waits for the load
    atB.opened(); // B's hello: A knows B
    expect(a.peer).toEqual({ tandem: true, features: ['files'] });
    expect(a.sendControl({ t: 'files.early' })).toBe(true); // held behind A's hello
    await new Promise((r) => setTimeout(r, 5));
    expect(b.peer).toBeNull(); // still loading: B has heard nothing from A
    expect(atB_).toEqual([]);
    loaded();
    await new Promise((r) => setTimeout(r, 0));
    expect(b.peer).toEqual({ tandem: true, features: ['files'] });
    expect(atB_).toEqual(['files.early']);
    a.close();
    b.close();
  });
});
