// The bookkeeping both ends of a resumable session keep (capability `resume`): how many counted
// frames each side sent and received, the sent frames not yet acknowledged, and when an `ack` is
// due. No I/O, no clock: the server engine and the client driver each hold one per session.
import { ACK_EVERY_BYTES, ACK_EVERY_FRAMES } from './constants.js';

/** One side's view of a resumable session's two frame streams. */
export class ResumeLedger {
  /** Counted frames this side sent (frame n is the n-th). */
  sent = 0;
  /** Counted frames this side received. */
  received = 0;
  /** Of this side's frames, how many the other side has acknowledged. */
  acked = 0;
  /** Sent frames `acked + 1 … sent`, kept until acknowledged, for replay after a resume. */
  private retained: string[] = [];
  /** UTF-16 length of the retained frames (a lower bound of their UTF-8 size). */
  retainedSize = 0;
  private unackedFrames = 0;
  private unackedSize = 0;

  /** A ledger carried over from elsewhere (a session moving between cluster nodes). */
  static restore(state: {
    readonly sent: number;
    readonly received: number;
    readonly acked: number;
    readonly retained: readonly string[];
  }): ResumeLedger {
    const ledger = new ResumeLedger();
    if (state.sent - state.acked !== state.retained.length)
      throw new Error('ResumeLedger.restore: retained frames do not match sent - acked');
    ledger.sent = state.sent;
    ledger.received = state.received;
    ledger.acked = state.acked;
    ledger.retained = [...state.retained];
    for (const frame of state.retained) ledger.retainedSize += frame.length;
    return ledger;
  }

  /** The frames kept for replay, oldest first. */
  retainedFrames(): readonly string[] {
    return this.retained;
  }

  /** Frames kept for replay. */
  get retainedCount(): number {
    return this.retained.length;
  }

  /** Record a counted frame as sent (whether or not a link carried it). */
  sending(frame: string): void {
    this.sent++;
    this.retained.push(frame);
    this.retainedSize += frame.length;
  }

  /** Record a counted frame as received; true when an `ack` is due now. */
  receiving(size: number): boolean {
    this.received++;
    this.unackedFrames++;
    this.unackedSize += size;
    if (this.unackedFrames < ACK_EVERY_FRAMES && this.unackedSize < ACK_EVERY_BYTES) return false;
    this.ackSent();
    return true;
  }

  /** An `ack` (or a resume) told the other side everything received so far. */
  ackSent(): void {
    this.unackedFrames = 0;
    this.unackedSize = 0;
  }

  /** The other side holds `count` of this side's frames: forget those. False when `count` is impossible. */
  acknowledged(count: number): boolean {
    if (!Number.isInteger(count) || count < this.acked || count > this.sent) return false;
    const drop = count - this.acked;
    if (drop > 0) {
      for (let i = 0; i < drop; i++) this.retainedSize -= this.retained[i]!.length;
      this.retained.splice(0, drop);
      this.acked = count;
    }
    return true;
  }

  /**
   * The session ended (or moved on with a copy): forget the kept frames. The record may outlive
   * the session a while (a timer wheel's stale filing), and must not keep its frames alive.
   */
  discard(): void {
    this.retained = [];
    this.retainedSize = 0;
  }

  /** After a resume in which the other side said it holds `count`: the frames to send again, in order; null when `count` is impossible. */
  replayAfter(count: number): readonly string[] | null {
    return this.acknowledged(count) ? [...this.retained] : null;
  }
}
