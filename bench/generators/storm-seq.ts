// What one client of the reconnect storm saw, as pure counters the storm
// generators feed (bench/generators/storm.ts) and the unit tier checks
// (storm-seq.spec.ts).
//
// Hub: each client holds the channel's seq (1, 2, 3, …, assigned by the hub
// in store order); the promise is that a client's live deliveries only go up,
// and what it missed comes back through history, counted apart.
//
// Baseline: there is no seq, only what the publisher put in each body: its
// index n (0, 1, 2, … in send order). Order is owed per (client, publisher),
// not across publishers, so each publisher's indices are tracked on their own.
// The baseline has nothing to resubscribe from: what it missed while away
// comes back only through socket.io's connection state recovery.
import { Seen } from './clients.js';

/** A hub client's view of one channel's seq. */
export class ChannelSeqTracker {
  private readonly held = new Seen();
  /** Highest seq such that every seq up to it is held (startSeq: the channel's head when the client joined). */
  contiguous: number;
  maxSeen: number;
  dups = 0;
  /** Live deliveries below a seq already held: the client saw the channel in another order than stored. */
  ooo = 0;

  constructor(startSeq: number) {
    this.contiguous = startSeq;
    this.maxSeen = startSeq;
  }

  /** `live`: pushed by the server (true) or paged from history after a resubscribe (false: filling a gap is not disorder). */
  take(seq: number, live: boolean): void {
    if (seq <= this.contiguous || this.held.has(seq)) {
      this.dups++;
      return;
    }
    if (live && seq < this.maxSeen) this.ooo++;
    this.maxSeen = Math.max(this.maxSeen, seq);
    this.held.add(seq);
    while (this.held.has(this.contiguous + 1)) this.contiguous++;
  }

  has(seq: number): boolean {
    return this.held.has(seq);
  }

  /** Seqs in (contiguous, head] never received. */
  missingUpTo(head: number): number {
    let m = 0;
    for (let seq = this.contiguous + 1; seq <= head; seq++) if (!this.held.has(seq)) m++;
    return m;
  }
}

/** A baseline client's view of one publisher's indices. */
export class PublisherSeqTracker {
  private readonly held = new Seen();
  /** Highest n such that every n' ≤ n is held (-1: none yet). */
  contiguous = -1;
  /** Highest n held (-1: none yet). */
  maxSeen = -1;
  dups = 0;
  /** Deliveries of an n below one already held: the application saw them in another order than sent. */
  ooo = 0;

  take(n: number): void {
    if (this.held.has(n)) {
      this.dups++;
      return;
    }
    if (n < this.maxSeen) this.ooo++;
    this.held.add(n);
    this.maxSeen = Math.max(this.maxSeen, n);
    while (this.held.has(this.contiguous + 1)) this.contiguous++;
  }

  /** No gap below the highest n held. */
  get gapless(): boolean {
    return this.contiguous === this.maxSeen;
  }

  /** How many of the publisher's acknowledged indices this client never received. */
  missing(acked: readonly number[]): number {
    let m = 0;
    for (const n of acked) if (!this.held.has(n)) m++;
    return m;
  }
}

/** A baseline client's view of every publisher it hears, each judged on its own. */
export class PerPublisherSeq {
  private readonly by = new Map<string, PublisherSeqTracker>();
  /** When the client was in the room again (rejoined or recovered) after its drop. */
  backAt?: number;
  /** The first delivery after backAt at which no publisher had a gap below its highest n held. */
  caughtUpAt?: number;

  take(publisher: string, n: number, now: number): void {
    let t = this.by.get(publisher);
    if (!t) this.by.set(publisher, (t = new PublisherSeqTracker()));
    t.take(n);
    if (this.backAt !== undefined && this.caughtUpAt === undefined && [...this.by.values()].every((x) => x.gapless)) this.caughtUpAt = now;
  }

  back(now: number): void {
    this.backAt ??= now;
  }

  get dups(): number {
    let d = 0;
    for (const t of this.by.values()) d += t.dups;
    return d;
  }

  get ooo(): number {
    let o = 0;
    for (const t of this.by.values()) o += t.ooo;
    return o;
  }

  /** Acknowledged indices of `publisher` this client never received. */
  missing(publisher: string, acked: readonly number[]): number {
    return this.by.get(publisher)?.missing(acked) ?? acked.length;
  }
}
