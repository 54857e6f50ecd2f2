import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHaproxyConfig } from '../../../scripts/haproxy-config.js';
import { freePort } from '../../support/free-port.js';
import { afterAll, beforeAll } from '@jest/globals';
import { type Cluster, type Replica, killAndWait, startCluster, until } from './cluster.js';

/** HAProxy from PATH with the project's one template, in front of `replicas`. */
export class Haproxy {
  child?: ChildProcess;
  port = 0;
  log = '';

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `port`: bind that one (a restart keeps its clients' address); otherwise a free one. */
  async start(replicas: Replica[], port?: number): Promise<void> {
    this.port = port ?? (await freePort());
    const file = join(mkdtempSync(join(tmpdir(), 'crosswire-lb-')), 'haproxy.cfg');
    const servers = replicas.map((r) => ({ name: r.id, host: '127.0.0.1', port: r.port }));
    writeFileSync(file, renderHaproxyConfig({ bindPort: this.port, bindAddress: '127.0.0.1', servers }));
    this.child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.log += d));
    this.child.stderr!.on('data', (d) => (this.log += d));
    // Up once it routes to a ready replica (its checks need `rise` passes first).
    await until('haproxy routing to a ready replica', async () => {
      try {
        return (await fetch(`${this.url}/readyz`)).status === 200;
      } catch {
        return false;
      }
    });
  }

  stop(): Promise<void> {
    return killAndWait(this.child);
  }
}

/**
 * A cluster of `n` replicas behind HAProxy for a whole test file; afterwards
 * everything pushed on `closers` is closed, then the LB and the cluster stop.
 */
export function clusterBehindLbForFile(n = 3) {
  const ctx = {
    cluster: undefined as unknown as Cluster,
    lb: new Haproxy(),
    closers: [] as Array<{ close(): void }>,
  };
  beforeAll(async () => {
    ctx.cluster = await startCluster(n);
    await ctx.lb.start(ctx.cluster.replicas);
  });
  afterAll(async () => {
    ctx.closers.forEach((c) => c.close());
    await ctx.lb.stop();
    await ctx.cluster?.stop();
  });
  return ctx;
}
