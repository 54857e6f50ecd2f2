// A byte-counting TCP proxy: what a client or a replica sends and receives on
// the wire (HTTP headers, WebSocket frames, Redis protocol), and how many TCP
// connections it opens. It forwards bytes untouched, optionally late: with
// `delayMs` set, every chunk from the target waits that long before it goes on
// (added latency on each round trip, as the fault tests use against Redis and
// Postgres); it can be changed while connections are open.
import net from 'node:net';
import { freePort } from '../scripts/free-port.js';

export interface ProxyCounters {
  /** Bytes from the connecting side towards the target. */
  up: number;
  /** Bytes from the target back to the connecting side. */
  down: number;
  connections: number;
}

export class CountingProxy {
  readonly counters: ProxyCounters = { up: 0, down: 0, connections: 0 };
  /** Held back this long: each chunk from the target, in order (0: forwarded at once). */
  delayMs = 0;
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    readonly name: string,
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async start(): Promise<this> {
    this.port = await freePort();
    this.server = net.createServer({ noDelay: true }, (client) => this.accept(client));
    await new Promise<void>((ok, fail) => {
      this.server!.once('error', fail);
      this.server!.listen(this.port, '127.0.0.1', ok);
    });
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  reset(): void {
    this.counters.up = this.counters.down = this.counters.connections = 0;
  }

  read(): ProxyCounters {
    return { ...this.counters };
  }

  private accept(client: net.Socket): void {
    this.counters.connections++;
    const target = net.connect({ port: this.targetPort, host: this.targetHost, noDelay: true });
    this.sockets.add(client).add(target);
    client.on('data', (d) => (this.counters.up += d.length));
    client.pipe(target);
    this.forwardLate(target, client);
    const close = () => {
      client.destroy();
      target.destroy();
      this.sockets.delete(client);
      this.sockets.delete(target);
    };
    client.on('error', close).on('close', close);
    target.on('error', close).on('close', close);
  }

  /**
   * target → client, each chunk due `delayMs` after it arrived. One FIFO per
   * connection keeps the order when the delay changes mid-stream; the target
   * is paused while the client's buffer is full, as pipe() would.
   */
  private forwardLate(from: net.Socket, to: net.Socket): void {
    const queue: Array<{ due: number; data: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      while (queue.length && queue[0].due <= Date.now()) {
        if (!to.destroyed && !to.write(queue.shift()!.data)) from.pause();
      }
      if (queue.length) timer = setTimeout(flush, queue[0].due - Date.now());
      else if (from.readableEnded && !to.destroyed) to.end();
    };
    from.on('data', (d: Buffer) => {
      this.counters.down += d.length;
      queue.push({ due: Date.now() + this.delayMs, data: d });
      if (!timer) flush();
    });
    from.on('end', () => !timer && !queue.length && to.end());
    to.on('drain', () => from.resume());
  }

  /** Cuts every connection through it (a killed target's clients then see the drop at once). */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
