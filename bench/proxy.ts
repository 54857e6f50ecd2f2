// A byte-counting TCP proxy: what a client or a replica sends and receives on
// the wire (HTTP headers, WebSocket frames, Redis protocol), and how many TCP
// connections it opens. It forwards bytes untouched.
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
    target.on('data', (d) => (this.counters.down += d.length));
    client.pipe(target);
    target.pipe(client);
    const close = () => {
      client.destroy();
      target.destroy();
      this.sockets.delete(client);
      this.sockets.delete(target);
    };
    client.on('error', close).on('close', close);
    target.on('error', close).on('close', close);
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
