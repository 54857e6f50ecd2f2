import type { MessageDto } from '../../events/dto.js';

export type DeliveryPath = 'live' | 'holdback' | 'reconcile';

export interface StreamDeps {
  /** Committed messages with seq in (after, upTo], oldest first; may return a first page only. */
  read(after: number, upTo: number): Promise<MessageDto[]>;
  /** Hands a message to the channel's attached sockets; called in seq order, each seq once. */
  emit(message: MessageDto, path: DeliveryPath): void;
  /** A message's size for the collectors' byte bound (computed once per message, and only while a subscribe collects). */
  sizeOf(message: MessageDto): number;
  holdMs: number;
  onParked(): void;
  onReadFailed(err: unknown): void;
}

/** What a subscribe in progress saw the stream emit since it started collecting. */
export interface Collector {
  /** The watermark when collecting started: `items` continue from from + 1. */
  readonly from: number;
  readonly items: MessageDto[];
  /** items[i]'s size (StreamDeps.sizeOf). */
  readonly sizes: number[];
  /** Collecting stopped at the bound: messages after the last item were emitted but not kept. */
  readonly full: boolean;
  stop(): void;
}

interface Collecting {
  from: number;
  /** Messages at or below this seq are not kept. */
  after: number;
  items: MessageDto[];
  sizes: number[];
  bytes: number;
  full: boolean;
  maxBytes: number;
  maxItems: number;
}

/**
 * One channel's live messages on this replica, in seq order, each once. The
 * local publish, the bus and the tick all offer messages here; a seq that
 * comes early is parked, and if the ones before it do not follow within the
 * hold they are read from Postgres: by the publish path's invariant, a
 * committed seq implies every lower one is committed. In-order offers pass
 * straight through (no timer, no copy).
 */
export class ChannelStream {
  private watermark = 0;
  private started = false;
  private stopped = false;
  /** Highest seq known to be committed. */
  private known = 0;
  private readonly parked = new Map<number, { message: MessageDto; path: DeliveryPath }>();
  private readonly collectors = new Set<Collecting>();
  /** This replica's own messages waiting for their frame to come back from the bus (expectEcho). */
  private readonly echoes = new Map<number, MessageDto>();
  private waiters: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private timer?: NodeJS.Timeout;
  private reading = false;

  constructor(private readonly deps: StreamDeps) {}

  /** The highest seq emitted here: every seq up to it was emitted, in order. */
  get head(): number {
    return this.watermark;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Tracking begins at the channel's lastSeq as read now; offers that came before are kept if above it. */
  start(lastSeq: number): void {
    if (this.stopped || this.started) return;
    this.started = true;
    this.watermark = lastSeq;
    this.known = Math.max(this.known, lastSeq);
    for (const seq of this.parked.keys()) if (seq <= lastSeq) this.parked.delete(seq);
    for (const seq of this.echoes.keys()) if (seq <= lastSeq) this.echoes.delete(seq);
    this.drain();
    this.arm();
  }

  offer(message: MessageDto, path: DeliveryPath): void {
    if (this.stopped) return;
    const seq = message.seq;
    if (this.started && seq <= this.watermark) return;
    if (!this.started || seq > this.watermark + 1) {
      if (this.parked.has(seq)) return;
      this.parked.set(seq, { message, path });
      this.deps.onParked();
      this.knowCommitted(seq - 1);
      return;
    }
    this.deliver(message, path);
    this.drain();
  }

  /** `seq` is committed: if it has not been emitted within the hold, read up to it. */
  knowCommitted(seq: number): void {
    if (this.stopped || seq <= this.known) return;
    this.known = seq;
    this.arm();
  }

  /** The tick saw `lastSeq` in Postgres: read whatever is missing now, without waiting for the hold. */
  catchUp(lastSeq: number): void {
    if (this.stopped || !this.started) return;
    this.known = Math.max(this.known, lastSeq);
    if (this.watermark >= this.known || this.reading) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    void this.fill('reconcile');
  }

  /**
   * Records every message emitted from now on with seq above `after`, for a
   * subscribe that is reading its missed messages, up to `maxBytes` and
   * `maxItems` (at least one message): a subscribe waiting behind a busy
   * channel holds a bounded list, and answers hasMore past it.
   */
  collect(maxBytes: number, maxItems: number, after = 0): Collector {
    const c: Collecting = { from: this.watermark, after, items: [], sizes: [], bytes: 0, full: false, maxBytes, maxItems };
    this.collectors.add(c);
    return {
      from: c.from,
      items: c.items,
      sizes: c.sizes,
      get full() {
        return c.full;
      },
      stop: () => this.collectors.delete(c),
    };
  }

  /**
   * This replica's own message, stored and published on the bus: it is
   * emitted when its frame comes back from Redis (echo), so it follows every
   * revocation Redis took before it, as it does on the other replicas. No
   * hold is armed for it: a read started here, not by a frame, could pass a
   * revocation still on its way. If the echo is lost, the next message's frame
   * or the tick fills it.
   */
  expectEcho(message: MessageDto): void {
    if (this.stopped || (this.started && message.seq <= this.watermark)) return;
    this.echoes.set(message.seq, message);
  }

  /** The frame of an own message came back (or the bus refused it): emit it now. */
  echo(seq: number): void {
    const message = this.echoes.get(seq);
    if (!message) return;
    this.echoes.delete(seq);
    this.offer(message, 'live');
  }

  /** Resolves once `seq` has been emitted (rejects if the stream stops first). */
  reached(seq: number): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('stream stopped'));
    if (this.started && this.watermark >= seq) return Promise.resolve();
    this.knowCommitted(seq);
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Untracked (no subscriber left, or the channel deleted): holds released, late reads discarded. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.parked.clear();
    this.echoes.clear();
    this.collectors.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error('stream stopped'));
  }

  private deliver(message: MessageDto, path: DeliveryPath) {
    this.watermark = message.seq;
    this.deps.emit(message, path);
    if (this.echoes.size > 0) this.echoes.delete(message.seq);
    if (this.collectors.size > 0) this.collectInto(message);
    if (this.waiters.length > 0) {
      const due = this.waiters.filter((w) => w.seq <= this.watermark);
      if (due.length > 0) {
        this.waiters = this.waiters.filter((w) => w.seq > this.watermark);
        for (const w of due) w.resolve();
      }
    }
  }

  private collectInto(message: MessageDto) {
    let size = -1;
    for (const c of this.collectors) {
      if (c.full || message.seq <= c.after) continue;
      if (size < 0) size = this.deps.sizeOf(message);
      if (c.items.length > 0 && (c.bytes + size > c.maxBytes || c.items.length >= c.maxItems)) {
        c.full = true;
        continue;
      }
      c.items.push(message);
      c.sizes.push(size);
      c.bytes += size;
    }
  }

  private drain() {
    for (let next = this.parked.get(this.watermark + 1); next; next = this.parked.get(this.watermark + 1)) {
      this.parked.delete(this.watermark + 1);
      this.deliver(next.message, next.path);
    }
    if (this.watermark >= this.known && this.parked.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private arm() {
    if (this.stopped || !this.started || this.timer || this.reading || this.watermark >= this.known) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.fill('holdback');
    }, this.deps.holdMs);
    this.timer.unref?.();
  }

  /** One read in flight per channel; pages until the known-committed seq is reached. */
  private async fill(path: DeliveryPath) {
    if (this.reading || this.stopped) return;
    this.reading = true;
    let progressed = true;
    try {
      while (!this.stopped && this.watermark < this.known && progressed) {
        const from = this.watermark;
        const items = await this.deps.read(from, this.known);
        if (this.stopped) return;
        for (const m of items) this.offer(m, path);
        progressed = this.watermark > from;
      }
    } catch (err) {
      if (!this.stopped) this.deps.onReadFailed(err);
    } finally {
      this.reading = false;
    }
    // A failed or fruitless read keeps the hold and retries after it.
    this.arm();
  }
}
