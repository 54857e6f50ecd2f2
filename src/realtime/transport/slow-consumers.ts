import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { LOGGER, type JsonLogger } from '../../logging/logger.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { SocketServer } from './socket-server.js';

// engine.io's socket and transport as far as this file reads them (its typings
// keep `transport.socket` and `clients` private).
interface Packet {
  data?: unknown;
  options?: Record<string | symbol, unknown> & { wsPreEncodedFrame?: Buffer[] };
}
interface Transport {
  name: string;
  socket?: { bufferedAmount?: number; terminate?: () => void };
}
interface Conn {
  id: string;
  transport: Transport;
  close(discard?: boolean): void;
  on(event: 'packetCreate', fn: (this: Conn, p: Packet) => void): unknown;
  on(event: 'flush' | 'close', fn: (this: Conn) => void): unknown;
  [STATE]?: State;
}
interface State {
  /** Bytes in engine.io's writeBuffer: packets waiting for the transport to be writable (or polled). */
  queued: number;
  peak: number;
  cut: boolean;
}

const STATE = Symbol('send buffer');
const SIZE = Symbol('packet size');

/** A packet's bytes on the wire, computed once per broadcast: socket.io hands every socket the same options object. */
function sizeOf(packet: Packet): number {
  const o = packet.options;
  const cached = o?.[SIZE] as [unknown, number] | undefined;
  if (cached && cached[0] === packet.data) return cached[1];
  let n = 1;
  const frame = o?.wsPreEncodedFrame;
  if (frame) {
    n = 0;
    for (const b of frame) n += b.length;
  } else if (typeof packet.data === 'string') n += Buffer.byteLength(packet.data);
  else if (packet.data instanceof Uint8Array || packet.data instanceof ArrayBuffer) n += packet.data.byteLength;
  if (o) o[SIZE] = [packet.data, n];
  return n;
}

/** Bytes the WebSocket holds that the kernel has not taken yet (its peer stopped reading). */
function wsBuffered(t: Transport): number {
  return t.name === 'websocket' ? (t.socket?.bufferedAmount ?? 0) : 0;
}

const bufferedOf = (conn: Conn): number => (conn[STATE]?.queued ?? 0) + wsBuffered(conn.transport);

/**
 * Slow consumers: every socket's send buffer (engine.io's queue plus the
 * WebSocket's unsent bytes) is bounded by SOCKET_BUFFER_MAX_BYTES. A packet
 * that would take a non-empty buffer past the bound closes the transport at
 * once instead of queueing, so a client that stops reading costs at most the
 * bound, and writes to the others never wait on it; the client reconnects by
 * itself and resumes with sinceSeq (CONTRACT §5, §6). One packet larger than
 * the bound (a subscribe ack with many missed messages) passes alone.
 */
@Injectable()
export class SlowConsumers implements OnApplicationBootstrap {
  private highwater = 0;
  private readonly bound: number;

  constructor(
    private readonly sockets: SocketServer,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly logger: JsonLogger,
  ) {
    this.bound = config.SOCKET_BUFFER_MAX_BYTES;
    const self = this;
    // Scraped, not per socket: a label per socket would grow the registry with every connection.
    new Gauge({
      name: 'crosswire_socket_buffer_max_bytes',
      help: 'The largest send buffer of any socket on this replica now, bytes',
      registers: [metrics.registry],
      collect() {
        let max = 0;
        for (const c of self.conns()) max = Math.max(max, bufferedOf(c));
        this.set(max);
      },
    });
    new Gauge({
      name: 'crosswire_socket_buffers_bytes',
      help: 'Send buffers of all sockets on this replica together now, bytes',
      registers: [metrics.registry],
      collect() {
        let sum = 0;
        for (const c of self.conns()) sum += bufferedOf(c);
        this.set(sum);
      },
    });
    new Gauge({
      name: 'crosswire_socket_buffer_highwater_bytes',
      help: 'The largest send buffer of several packets any socket on this replica held since start, bytes: at most SOCKET_BUFFER_MAX_BYTES',
      registers: [metrics.registry],
      collect() {
        this.set(self.highwater);
      },
    });
  }

  onApplicationBootstrap() {
    const io = this.sockets.io;
    if (!io) throw new Error('SlowConsumers: the Socket.IO server is not attached');
    io.engine.on('connection', (conn: Conn) => this.watch(conn));
  }

  private conns(): Conn[] {
    const engine = this.sockets.io?.engine as unknown as { clients?: Record<string, Conn> } | undefined;
    return Object.values(engine?.clients ?? {});
  }

  private watch(conn: Conn) {
    conn[STATE] = { queued: 0, peak: 0, cut: false };
    conn.on('packetCreate', this.listeners.packet);
    conn.on('flush', this.listeners.flush);
    conn.on('close', this.listeners.close);
  }

  // One set of listener functions for every connection (`this` is the connection): the per-socket cost is one small object.
  // Plain functions with `this: Conn`, not methods of the object, so that handing them to engine.io is their intended use.
  private readonly listeners = (() => {
    const self = this;
    function packet(this: Conn, p: Packet) {
      self.onPacket(this, p);
    }
    function flush(this: Conn) {
      // engine.io hands its whole writeBuffer to the transport: those bytes now count in bufferedAmount.
      const st = this[STATE];
      if (st) st.queued = 0;
    }
    function close(this: Conn) {
      const st = this[STATE];
      if (st) self.metrics.socketBufferPeak.observe(st.peak);
    }
    return { packet, flush, close };
  })();

  private onPacket(conn: Conn, packet: Packet) {
    const st = conn[STATE];
    if (!st || st.cut) return;
    const size = sizeOf(packet);
    const before = st.queued + wsBuffered(conn.transport);
    if (before > 0 && before + size > this.bound) return this.cut(conn, st, before);
    st.queued += size;
    if (before + size > st.peak) st.peak = before + size;
    // The bound holds for buffers built from several packets; a lone larger one is counted apart.
    if (before === 0 && size > this.bound) this.metrics.oversizedPackets.inc();
    else if (before + size > this.highwater) this.highwater = before + size;
  }

  /**
   * Closed at once, not gracefully: a graceful close would wait for the
   * buffer to drain (engine.io) or for the peer's close frame (ws, 30 s),
   * holding the memory the bound is about. The client sees `transport close`.
   */
  private cut(conn: Conn, st: State, buffered: number) {
    st.cut = true;
    this.metrics.slowConsumerCuts.inc();
    const socket = [...(this.sockets.io?.of('/').sockets.values() ?? [])].find((s) => (s.conn as unknown) === conn);
    this.logger.event('warn', 'slow consumer cut', { socketId: socket?.id, userId: socket?.data.user?.id, sid: conn.id, bufferedBytes: buffered, bound: this.bound });
    const ws = conn.transport.name === 'websocket' ? conn.transport.socket : undefined;
    // engine.io first, so nothing more is queued for it in this tick; then the TCP connection, with what it holds.
    conn.close(true);
    ws?.terminate?.();
  }
}
