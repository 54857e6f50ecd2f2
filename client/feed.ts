import type { MessageDto } from '../src/events/dto.js';

export interface FeedHooks {
  /** Hands a message to the app: called in seq order, each seq once. */
  deliver(message: MessageDto): void;
  /** Messages with seq > afterSeq, oldest first (REST history); used only to fill a gap. */
  fill(afterSeq: number): Promise<MessageDto[]>;
  /** A fill failed; it is retried with the next message or resubscribe. */
  onFillError?(err: unknown): void;
}

/**
 * One channel's messages for the app, in seq order, each once. The server
 * already sends them so (CONTRACT §6); this holds the highest seq for the
 * next resubscribe, drops what it has seen, and — defensively — fills a gap
 * from history rather than hand the app a message out of order.
 */
export class ChannelFeed {
  private readonly ahead = new Map<number, MessageDto>();
  private filling = false;
  duplicates = 0;
  gapsFilled = 0;

  /** `highest`: every seq up to it has been delivered (undefined: nothing yet, live only). */
  constructor(
    private readonly hooks: FeedHooks,
    public highest?: number,
  ) {}

  /** The ack of a subscribe without sinceSeq: live delivery starts after `head`. */
  startAt(head: number): void {
    if (this.highest === undefined) this.highest = head;
  }

  accept(m: MessageDto): void {
    const highest = this.highest ?? m.seq - 1;
    if (m.seq <= highest || this.ahead.has(m.seq)) {
      this.duplicates++;
      return;
    }
    if (m.seq > highest + 1) {
      this.ahead.set(m.seq, m);
      void this.fillGap();
      return;
    }
    this.deliver(m);
  }

  private deliver(m: MessageDto) {
    this.highest = m.seq;
    this.hooks.deliver(m);
    for (let next = this.ahead.get(m.seq + 1); next; next = this.ahead.get(this.highest + 1)) {
      this.ahead.delete(next.seq);
      this.highest = next.seq;
      this.hooks.deliver(next);
    }
  }

  private async fillGap() {
    if (this.filling) return;
    this.filling = true;
    try {
      while (this.ahead.size > 0 && this.highest !== undefined) {
        const before = this.highest;
        const page = await this.hooks.fill(before);
        for (const m of page) if (m.seq === this.highest + 1) this.deliver(m);
        if (this.highest === before) break; // nothing new: wait for the next message or resubscribe
        this.gapsFilled++;
      }
    } catch (e) {
      this.hooks.onFillError?.(e);
    } finally {
      this.filling = false;
    }
  }
}
