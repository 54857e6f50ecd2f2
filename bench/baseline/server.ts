// The baseline server: plain socket.io 4 + one of socket.io's Redis adapters on
// ioredis (options.ts: classic, sharded or streams with connection state
// recovery), no auth, no persistence. It speaks the hub's event names and
// answers with the hub's shapes, so a `message:created` is the same size on
// both sides.
//
//   PORT=… REDIS_URL=… BASELINE_ID=… [BASELINE_VARIANT=classic|sharded|streams] node dist/bench/baseline/server.js [--variant …]
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { isEntry } from '../../scripts/entry.js';
import {
  BASELINE_ADAPTER_OPTIONS,
  BASELINE_RECOVERY_OPTIONS,
  BASELINE_REDIS_OPTIONS,
  BASELINE_SERVER_OPTIONS,
  BASELINE_SHARDED_OPTIONS,
  BASELINE_STREAMS_OPTIONS,
  type BaselineVariant,
  baselineVariant,
} from './options.js';

interface Publish {
  channelId: string;
  body: unknown;
  clientMsgId?: string;
}
type Ack = (reply: unknown) => void;

function main(): void {
  const port = Number(process.env.PORT);
  const id = process.env.BASELINE_ID ?? `baseline-${process.pid}`;
  const variant: BaselineVariant = baselineVariant(process.argv.slice(2), process.env);
  const pub = new Redis(process.env.REDIS_URL!, BASELINE_REDIS_OPTIONS);
  // The streams adapter opens its own reading connections (duplicates of pub).
  const sub = variant === 'streams' ? undefined : pub.duplicate();
  // A Redis hiccup must not end the run through an unhandled rejection.
  process.on('unhandledRejection', (e) => console.error(`unhandled rejection: ${String(e)}`));

  const httpServer = http.createServer((req, res) => {
    res.writeHead(req.url === '/readyz' ? 200 : 404).end(req.url === '/readyz' ? '{"status":"ok"}' : '');
  });
  const io = new Server(httpServer, { ...BASELINE_SERVER_OPTIONS, ...(variant === 'streams' ? { connectionStateRecovery: BASELINE_RECOVERY_OPTIONS } : {}) });
  io.adapter(
    variant === 'streams'
      ? createStreamsAdapter(pub, BASELINE_STREAMS_OPTIONS)
      : variant === 'sharded'
        ? createShardedAdapter(pub, sub!, BASELINE_SHARDED_OPTIONS)
        : createAdapter(pub, sub!, BASELINE_ADAPTER_OPTIONS),
  );

  // A seq per channel, per process: the field exists so the payload matches the hub's.
  const seqs = new Map<string, number>();
  io.on('connection', (socket) => {
    const authorId = randomUUID();
    socket.emit('session', { userId: authorId, replicaId: id });
    socket.on('channel:subscribe', (p: { channelId: string }, ack?: Ack) => {
      void socket.join(`channel:${p.channelId}`);
      ack?.({ ok: true, channel: { id: p.channelId }, presence: [], missed: [], hasMore: false });
    });
    socket.on('channel:unsubscribe', (p: { channelId: string }, ack?: Ack) => {
      void socket.leave(`channel:${p.channelId}`);
      ack?.({ ok: true });
    });
    socket.on('message:publish', (p: Publish, ack?: Ack) => {
      const seq = (seqs.get(p.channelId) ?? 0) + 1;
      seqs.set(p.channelId, seq);
      const message = { id: randomUUID(), channelId: p.channelId, seq, authorId, body: p.body, clientMsgId: p.clientMsgId ?? null, createdAt: new Date().toISOString() };
      io.to(`channel:${p.channelId}`).emit('message:created', message);
      ack?.({ ok: true, message });
    });
  });
  httpServer.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'baseline listening', id, port, variant })));
  const stop = () => {
    // Not awaited, as before: process.exit below ends the process before it can settle (it would not reject: allSettled, and the HTTP close resolves even on error).
    void io.close();
    pub.disconnect();
    sub?.disconnect();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (isEntry(import.meta.url)) main();
