// Socket.IO client plumbing shared by the generator jobs.
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents } from '../../src/events/events.js';

export type Sock = Socket;

/** Connects and resolves on the server's `session` event (hub and baseline both send it). */
export function connectSocket(url: string, token: string | undefined, opts: Record<string, unknown> = {}): Promise<Sock> {
  const socket = io(url, {
    auth: token ? { token } : {},
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 20_000,
    ...opts,
  });
  return new Promise((resolve, reject) => {
    socket.once('session', () => resolve(socket));
    socket.once('connect_error', (e) => {
      socket.close();
      reject(e);
    });
  });
}

/** The events the server answers through an ack (the baseline answers them with the hub's shapes). */
export type AckedEvent = 'channel:subscribe' | 'channel:unsubscribe' | 'message:publish';
/** What the server acks `E` with: the argument of its ack callback. */
export type AckOf<E extends AckedEvent> = Parameters<NonNullable<Parameters<ClientToServerEvents[E]>[1]>>[0];

export function emitAck<E extends AckedEvent>(socket: Sock, event: E, payload: Parameters<ClientToServerEvents[E]>[0], timeoutMs = 30_000): Promise<AckOf<E>> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<AckOf<E>>;
}

/** Runs `task(i)` for i in 0..n-1 with at most `width` at once; returns the failures' messages. */
export async function inBatches(n: number, width: number, task: (i: number) => Promise<void>): Promise<string[]> {
  const errors: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await task(i).catch((e: Error) => errors.push(e.message));
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, worker));
  return errors;
}

/** A growable bitmap of indices seen: duplicates without a Set per client. */
export class Seen {
  private bits = new Uint8Array(64);
  has(n: number): boolean {
    return n >> 3 < this.bits.length && (this.bits[n >> 3] & (1 << (n & 7))) !== 0;
  }
  add(n: number): void {
    if (n >> 3 >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, (n >> 3) + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[n >> 3] |= 1 << (n & 7);
  }
}

/** How many receivers got each index: loss is computed against the publisher's acks. */
export class Counts {
  private counts = new Uint32Array(1024);
  max = -1;
  add(n: number): void {
    if (n >= this.counts.length) {
      const grown = new Uint32Array(Math.max(this.counts.length * 2, n + 1));
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[n]++;
    if (n > this.max) this.max = n;
  }
  toArray(): number[] {
    return Array.from(this.counts.subarray(0, this.max + 1));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
