// HAProxy in front of the bench's servers, from the project's one template
// (scripts/haproxy-config.ts), as `npm run cluster` and the browser tests run
// it: round robin, SRV cookie, /readyz checks. The topology adopts the child,
// so it is stopped with everything else, on signals too.
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type Child, startChild, stopChild, tailLog } from '../scripts/cluster-children.js';
import { freePort } from '../scripts/free-port.js';
import { renderHaproxyConfig } from '../scripts/haproxy-config.js';
import type { TrackedProcess } from './procs.js';
import type { Server, Topology } from './topology.js';

/** Global maxconn: below what the 20,000 open files allow HAProxy (about two descriptors a connection). */
export const BENCH_LB_MAXCONN = 9000;

export class BenchLb {
  private constructor(
    readonly child: Child,
    readonly port: number,
    private readonly statsSocket: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  tracked(): TrackedProcess {
    return { name: this.child.name, pid: this.child.pid, kind: 'haproxy' };
  }

  /** Started, and every server UP in the `ready` backend (its checks need `rise` passes). */
  static async start(topo: Topology, servers: Server[], name = 'haproxy'): Promise<BenchLb> {
    const port = await freePort();
    const statsSocket = path.join(topo.dir, `${name}.sock`);
    const file = path.join(topo.dir, `${name}.cfg`);
    writeFileSync(
      file,
      renderHaproxyConfig({
        bindPort: port,
        bindAddress: '127.0.0.1',
        servers: servers.map((s) => ({ name: s.name, host: '127.0.0.1', port: s.port })),
        maxconn: BENCH_LB_MAXCONN,
        statsSocket,
        renderedBy: 'the bench (bench/lb.ts)',
      }),
    );
    const child = topo.adopt(startChild({ name, role: 'haproxy', command: 'haproxy', args: ['-db', '-f', file], env: process.env, logDir: topo.logs }));
    const lb = new BenchLb(child, port, statsSocket);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exit) throw new Error(`${name} exited while starting; log ${child.logFile}:\n${tailLog(child.logFile)}`);
      const up = await lb.serversUp().catch(() => []);
      if (up.length === servers.length) return lb;
      if (Date.now() > deadline) throw new Error(`${name}: ${up.length} of ${servers.length} servers UP after 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Names of the `ready` backend's servers that HAProxy has UP (`show stat` on its runtime socket). */
  async serversUp(): Promise<string[]> {
    const csv = await new Promise<string>((resolve, reject) => {
      let out = '';
      const c = net.connect(this.statsSocket, () => c.end('show stat\n'));
      c.on('data', (d) => (out += d.toString()));
      c.on('end', () => resolve(out));
      c.on('error', reject);
    });
    const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n');
    const col = header.split(',');
    const [px, sv, status] = ['pxname', 'svname', 'status'].map((k) => col.indexOf(k));
    return rows
      .map((r) => r.split(','))
      .filter((f) => f[px] === 'ready' && f[sv] !== 'FRONTEND' && f[sv] !== 'BACKEND' && f[status] === 'UP')
      .map((f) => f[sv]);
  }

  /** Times HAProxy took a server of the `ready` backend out (a failed /readyz check: `Server ready/<name> is DOWN` in its log). */
  serversDownEvents(): number {
    return countDownEvents(readFileSync(this.child.logFile, 'utf8'));
  }

  stop(): Promise<void> {
    return stopChild(this.child, 5000, 'SIGINT').then(() => undefined);
  }
}

/** HAProxy logs each state change twice (with and without its `[WARNING] (pid) :` prefix): the bare lines are counted. */
export const countDownEvents = (log: string) => log.split('\n').filter((l) => /^Server ready\/\S+ is DOWN/.test(l)).length;
