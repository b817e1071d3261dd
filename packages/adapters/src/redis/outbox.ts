// Two small mechanisms of the node channel, apart from the directory that uses them: the outbox
// (what this node has for another while it handles one piece of work goes in one PUBLISH, in
// order) and the rate-limited report of texts dropped as invalid.
import { encodeBatch } from './node-channel.js';

/** Texts for other nodes, by node, published as one batch each once the work in hand is done. */
export class Outbox {
  private readonly texts = new Map<string, string[]>();
  constructor(private readonly publish: (node: string, text: string) => void) {}

  /** Queue `text` for `node`. */
  add(node: string, text: string): void {
    let texts = this.texts.get(node);
    if (texts === undefined) this.texts.set(node, (texts = []));
    texts.push(text);
    if (this.texts.size === 1 && texts.length === 1) process.nextTick(this.flush);
  }

  /** Publish what is queued now, a batch per node, in the order it was queued. */
  readonly flush = (): void => {
    for (const [node, texts] of this.texts) this.publish(node, texts.length === 1 ? texts[0]! : encodeBatch(texts));
    this.texts.clear();
  };

  /** Forget what is queued (the node died without a word). */
  clear(): void {
    this.texts.clear();
  }
}

/** Counts dropped texts; says so at most once per `everyMs`, the first at once, the rest summed into the next. */
export class DropReport {
  /** Texts dropped so far. */
  count = 0;
  private reportedAt = -Infinity;
  private unreported = 0;
  constructor(
    private readonly everyMs: number,
    private readonly report: (message: string) => void,
  ) {}

  drop(why: string): void {
    this.count++;
    const now = Date.now();
    if (now - this.reportedAt < this.everyMs) {
      this.unreported++;
      return;
    }
    const since = this.unreported > 0 ? ` (${this.unreported} more dropped since the last report)` : '';
    this.reportedAt = now;
    this.unreported = 0;
    this.report(`unreadable message on the node channel dropped: ${why}${since}`);
  }
}
