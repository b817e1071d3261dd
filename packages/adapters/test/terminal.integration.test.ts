// tandem-client at a terminal (a real pseudo-terminal, on-terminal.py): a message arriving while the user
// is mid-word is printed on its own line above the input, and the half-typed input is drawn again,
// intact, and sent whole; Ctrl+D on an empty line and Ctrl+C end the client.
import { afterEach, describe, expect, it } from 'vitest';
import xterm from '@xterm/headless';
import { killAll, start, startClient, startServer, type Proc } from './procs.js';

afterEach(killAll);

/** The screen a person sees after `output` (a real terminal emulator, 120 columns): its non-empty lines. */
async function screen(output: string): Promise<string[]> {
  const term = new xterm.Terminal({ cols: 120, rows: 400, allowProposedApi: true });
  await new Promise<void>((r) => term.write(output, r));
  const lines: string[] = [];
  for (let i = 0; i < term.buffer.active.length; i++) {
    const text = term.buffer.active.getLine(i)?.translateToString(true) ?? '';
    if (text.trim() !== '') lines.push(text);
  }
  term.dispose();
  return lines;
}

async function until(ok: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() > end) throw new Error('timed out');
}

async function terminalClient(url: string): Promise<{ tty: Proc; id: string }> {
  const tty = start('tandem-client', ['--url', url], { tty: true });
  const m = await tty.waitFor(/\*\*\* Your Client ID: (\S+) \*\*\*/);
  return { tty, id: m[1]! };
}

describe('tandem-client on a terminal', () => {
  it('keeps half-typed input intact when a message arrives, and sends it whole', async () => {
    const { url } = await startServer();
    const { tty, id } = await terminalClient(url);
    const peer = await startClient(url);
    peer.client.write(id);
    await tty.waitFor(/\*\*\* Data channel opened!/);
    await peer.client.waitFor(/\*\*\* Data channel opened!/);

    await tty.waitFor(/\*\*\* Safety code/); // the last line the call prints by itself
    tty.write('half-ty');
    await until(() => tty.output().includes('half-ty')); // echoed as typed
    peer.client.write('a message mid-word');
    await tty.waitFor(/< Peer: a message mid-word/);
    await new Promise((r) => setTimeout(r, 200));
    // on screen: the message on a line of its own, then the input line with the half-typed text
    const lines = await screen(tty.output());
    expect(lines.slice(-2)).toEqual(['< Peer: a message mid-word', 'half-ty']);

    tty.write('ped line\r');
    await peer.client.waitFor(/^< Peer: half-typed line$/);
  });

  it('ends on Ctrl+D at an empty line, and on Ctrl+C', async () => {
    const { url } = await startServer();
    const a = await terminalClient(url);
    a.tty.write('\x04');
    expect(await new Promise((r) => a.tty.child.on('exit', r))).toBe(0);
    const b = await terminalClient(url);
    b.tty.write('\x03');
    await b.tty.waitFor(/Shutting down/);
    expect(await new Promise((r) => b.tty.child.on('exit', r))).toBe(0);
  });
});
