/**
 * Per channel with local subscribers: the highest seq up to which every
 * message has been delivered here (the watermark), plus seqs above it that
 * arrived early. Live events can come out of order (publishers on different
 * replicas); the reconciliation tick fills whatever stays missing.
 */
export class DeliveryTracker {
  private readonly channels = new Map<string, { watermark: number; ahead: Set<number> }>();

  /** Starts tracking a channel at its current lastSeq (no-op when tracked). */
  track(channelId: string, lastSeq: number): void {
    if (!this.channels.has(channelId)) this.channels.set(channelId, { watermark: lastSeq, ahead: new Set() });
  }

  untrack(channelId: string): void {
    this.channels.delete(channelId);
  }

  isTracked(channelId: string): boolean {
    return this.channels.has(channelId);
  }

  tracked(): string[] {
    return [...this.channels.keys()];
  }

  watermark(channelId: string): number | undefined {
    return this.channels.get(channelId)?.watermark;
  }

  /** Whether `seq` was already delivered here. */
  has(channelId: string, seq: number): boolean {
    const c = this.channels.get(channelId);
    return !!c && (seq <= c.watermark || c.ahead.has(seq));
  }

  /** Records a delivery; returns false when it was a duplicate. */
  record(channelId: string, seq: number): boolean {
    const c = this.channels.get(channelId);
    if (!c) return true;
    if (seq <= c.watermark || c.ahead.has(seq)) return false;
    c.ahead.add(seq);
    while (c.ahead.delete(c.watermark + 1)) c.watermark++;
    return true;
  }
}
