import { type ChildProcess, spawn } from 'node:child_process';

// A subscriber in a process of its own whose TCP socket can be paused (it
// stops reading, so the server's writes to it back up) and resumed. Its own
// process, so that what it reads on resuming (megabytes the kernel held) never
// delays a test process that measures other subscribers' latencies. It follows
// CONTRACT §6's rule: after any disconnect, subscribe again with the highest
// seq held (again while the ack says hasMore), and checks every seq is
// highest + 1.
const CHILD = `
import { io } from 'socket.io-client';
const { URL, TOKEN, CHANNEL } = process.env;
let highest = Number(process.env.SINCE);
let socket;
let target = Infinity;
const violations = [];
const reached = () => {
  if (highest < target) return;
  target = Infinity;
  process.send({ type: 'reached', highest });
};
const connect = () => {
  const s = io(URL, { auth: { token: TOKEN }, transports: ['websocket'], reconnection: false, forceNew: true });
  socket = s;
  let live = false;
  s.on('message:created', (m) => {
    if (m.channelId !== CHANNEL) return;
    if (!live) return void violations.push('seq ' + m.seq + ' before the ack');
    if (m.seq !== highest + 1) return void violations.push('expected ' + (highest + 1) + ', got ' + m.seq);
    highest = m.seq;
    reached();
  });
  s.on('connect_error', () => setTimeout(connect, 100));
  s.on('disconnect', (reason) => {
    process.send({ type: 'disconnect', reason });
    setTimeout(connect, 50);
  });
  s.once('session', () => {
    const subscribe = () => s.timeout(10000).emit('channel:subscribe', { channelId: CHANNEL, sinceSeq: highest }, (err, ack) => {
      if (err || !ack.ok) return void process.send({ type: 'error', error: String(err ?? JSON.stringify(ack.error)) });
      for (const m of ack.missed) {
        if (m.seq !== highest + 1) violations.push('missed has ' + m.seq + ' after ' + highest);
        highest = m.seq;
      }
      if (ack.hasMore) return subscribe();
      live = true;
      process.send({ type: 'live', highest });
      reached();
    });
    subscribe();
  });
};
process.on('message', (cmd) => {
  if (cmd.op === 'pause') {
    socket.io.engine.transport.ws._socket.pause();
    process.send({ type: 'paused' });
  } else if (cmd.op === 'resume') socket.io.engine.transport.ws._socket.resume();
  else if (cmd.op === 'reach') {
    target = cmd.seq;
    reached();
  } else if (cmd.op === 'state') process.send({ type: 'state', highest, violations });
});
connect();
`;

type Reply = { type: string; [k: string]: unknown };

export class PausedClient {
  readonly child: ChildProcess;
  readonly disconnects: string[] = [];
  readonly errors: string[] = [];
  private readonly waiting = new Set<{ type: string; resolve: (r: Reply) => void }>();

  constructor(url: string, token: string, channelId: string, sinceSeq: number) {
    this.child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH!, URL: url, TOKEN: token, CHANNEL: channelId, SINCE: String(sinceSeq) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (raw) => {
      const r = raw as Reply;
      if (r.type === 'disconnect') this.disconnects.push(String(r.reason));
      if (r.type === 'error') this.errors.push(String(r.error));
      for (const w of [...this.waiting]) {
        if (w.type !== r.type) continue;
        this.waiting.delete(w);
        w.resolve(r);
      }
    });
  }

  /** The next reply of that type. */
  private next(type: string, ms = 30_000): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const w = { type, resolve: (r: Reply) => (clearTimeout(timer), resolve(r)) };
      const timer = setTimeout(() => {
        this.waiting.delete(w);
        reject(new Error(`paused client: no ${type} within ${ms} ms (errors: ${this.errors.join('; ')})`));
      }, ms);
      this.waiting.add(w);
    });
  }

  /** Resolves once subscribed and attached to live delivery. */
  live(): Promise<Reply> {
    return this.next('live');
  }

  async pause(): Promise<void> {
    const paused = this.next('paused');
    this.child.send({ op: 'pause' });
    await paused;
  }

  resume(): void {
    this.child.send({ op: 'resume' });
  }

  /** Resolves once it holds every seq up to `seq`. */
  async reach(seq: number, ms = 30_000): Promise<void> {
    const reached = this.next('reached', ms);
    this.child.send({ op: 'reach', seq });
    await reached;
  }

  async state(): Promise<{ highest: number; violations: string[] }> {
    const s = this.next('state');
    this.child.send({ op: 'state' });
    return (await s) as unknown as { highest: number; violations: string[] };
  }

  close(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
