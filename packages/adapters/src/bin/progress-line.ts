// tandem-client's status line while files move: one line on a terminal (bytes, MiB/s, ETA per
// transfer), cleared around every other line of output; nothing when the stream is not a terminal.
import type { Transfer } from '@tandem/client-core';

/** One status line on stderr while files move, when it is a terminal (bytes, MiB/s, ETA). */
export function progressLine(stream: NodeJS.WriteStream) {
  const tty = stream.isTTY === true;
  const shown = new Map<Transfer, { start: number; from: number }>();
  let line = '';
  const mib = (n: number) => (n / 1048576).toFixed(1);
  const render = () => {
    const now = Date.now();
    return [...shown]
      .map(([t, { start, from }]) => {
        const rate = (t.bytes - from) / Math.max(0.001, (now - start) / 1000);
        const eta = rate > 0 ? Math.ceil((t.size - t.bytes) / rate) : null;
        const pct = t.size === 0 ? 100 : Math.floor((t.bytes / t.size) * 100);
        return `${t.direction === 'send' ? '↑' : '↓'} ${t.name} ${pct}% ${mib(t.bytes)}/${mib(t.size)} MiB ${mib(rate)} MiB/s${eta === null ? '' : ` ETA ${eta} s`}`;
      })
      .join(' | ');
  };
  let timer: NodeJS.Timeout | null = null;
  return {
    track(t: Transfer) {
      if (!tty) return;
      shown.set(t, { start: Date.now(), from: t.bytes });
      timer ??= setInterval(() => {
        this.clear();
        this.draw();
      }, 250);
      const forget = () => {
        this.clear();
        shown.delete(t);
        if (shown.size === 0 && timer !== null) {
          clearInterval(timer);
          timer = null;
        }
        this.draw();
      };
      t.on('done', forget);
      t.on('failed', forget);
    },
    clear() {
      if (tty && line !== '') stream.write('\r\x1b[2K');
      line = '';
    },
    draw() {
      if (!tty || shown.size === 0) return;
      line = render().slice(0, Math.max(20, (stream.columns ?? 80) - 1));
      stream.write(line);
    },
  };
}
