import type { ErrorBody, Json, MessageDto } from '../src/events/dto.js';
import type { Ack } from '../src/events/events.js';

/** A failure the app should see: the server's error code, or the client's own (QUEUE_FULL, CLOSED). */
export class CrosswireError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: ErrorBody['details'],
  ) {
    super(message);
    this.name = 'CrosswireError';
  }
}

/** Worth trying again with the same clientMsgId: the hub was busy or unreachable. */
const RETRYABLE = new Set(['UNAVAILABLE', 'INTERNAL', 'RATE_LIMITED']);

interface Item {
  channelId: string;
  body: Json;
  clientMsgId: string;
  /** Which send of it is current: an answer to an older one is ignored. */
  attempt: number;
  inFlight: boolean;
  failures: number;
  retry?: ReturnType<typeof setTimeout>;
  resolve(m: MessageDto): void;
  reject(e: CrosswireError): void;
}

export type Send = (p: { channelId: string; body: Json; clientMsgId: string }, answer: (err: Error | null, ack?: Ack<{ message: MessageDto }>) => void) => void;

/**
 * Publishes waiting for their acknowledgement. Each has a clientMsgId of its
 * own, so sending it again — after a lost answer, a reconnect, a busy hub —
 * never stores it twice. At most `max` wait; one more is refused QUEUE_FULL.
 */
export class Outbox {
  private readonly items: Item[] = [];
  private online = false;

  constructor(
    private readonly send: Send,
    private readonly newId: () => string,
    readonly max = 1_000,
  ) {}

  get size(): number {
    return this.items.length;
  }

  add(channelId: string, body: Json): Promise<MessageDto> {
    if (this.items.length >= this.max) {
      return Promise.reject(new CrosswireError('QUEUE_FULL', `${this.max} publishes are already waiting to be acknowledged`));
    }
    return new Promise((resolve, reject) => {
      const item: Item = { channelId, body, clientMsgId: this.newId(), attempt: 0, inFlight: false, failures: 0, resolve, reject };
      this.items.push(item);
      if (this.online) this.dispatch(item);
    });
  }

  /** Connected (again): everything not yet acknowledged goes out. */
  connected(): void {
    this.online = true;
    for (const item of this.items) if (!item.inFlight && !item.retry) this.dispatch(item);
  }

  /** Connection lost: answers still due will not come; each is sent again on the next connect. */
  disconnected(): void {
    this.online = false;
    for (const item of this.items) {
      item.attempt++;
      item.inFlight = false;
      clearTimeout(item.retry);
      item.retry = undefined;
    }
  }

  /** Every waiting publish fails with `error` (the client is closing, or its session ended). */
  fail(error: CrosswireError): void {
    for (const item of this.items.splice(0)) {
      clearTimeout(item.retry);
      item.reject(error);
    }
  }

  private dispatch(item: Item) {
    const attempt = ++item.attempt;
    item.inFlight = true;
    this.send({ channelId: item.channelId, body: item.body, clientMsgId: item.clientMsgId }, (err, ack) => {
      if (item.attempt !== attempt) return;
      item.inFlight = false;
      if (!err && ack?.ok) return this.done(item, () => item.resolve(ack.message));
      if (!err && ack && !ack.ok && !RETRYABLE.has(ack.error.code)) {
        const { code, message, details } = ack.error;
        return this.done(item, () => item.reject(new CrosswireError(code, message, details)));
      }
      // No answer in time, or a passing failure: the same clientMsgId again, later (not before a rate limit says).
      const wait = !err && ack && !ack.ok ? (ack.error.retryAfterMs ?? 0) : 0;
      const delay = Math.max(Math.min(250 * 2 ** item.failures++, 5_000), wait);
      item.retry = setTimeout(() => {
        item.retry = undefined;
        if (this.online && this.items.includes(item)) this.dispatch(item);
      }, delay);
    });
  }

  private done(item: Item, settle: () => void) {
    const i = this.items.indexOf(item);
    if (i >= 0) this.items.splice(i, 1);
    settle();
  }
}
