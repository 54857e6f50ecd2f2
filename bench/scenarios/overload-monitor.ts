// Watches the replicas while the overload runs: "no crash" is a process that
// never exited and a /healthz that kept answering 200 (a replica too busy to
// answer its liveness probe would be restarted by an orchestrator: as bad as
// a crash). /readyz and RSS are recorded for the reader.
import { readFileSync } from 'node:fs';
import type { Server } from '../topology.js';

export interface ReplicaWatch {
  name: string;
  exited: string | null;
  healthzOk: number;
  healthzFailed: number;
  firstHealthzFailure: string | null;
  /** /readyz answers by status (`error` when none came within the probe's wait). */
  readyz: Record<string, number>;
  maxRssMB: number;
}

const PROBE_MS = 2000;

const rssMB = (pid: number) => {
  try {
    const kB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return Math.round(kB / 102.4) / 10;
  } catch {
    return 0;
  }
};

async function status(url: string): Promise<string> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(PROBE_MS) });
    await r.arrayBuffer();
    return String(r.status);
  } catch (e) {
    return (e as Error).name === 'TimeoutError' ? 'timeout' : 'error';
  }
}

/** Probes every `everyMs` until stopped; one probe at a time per replica, so a slow answer is not piled on. */
export function watchReplicas(servers: Server[], everyMs = 250): { stop(): Promise<ReplicaWatch[]> } {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: the literal's nulls and {} would be inferred too narrow
  const watches = servers.map((s) => ({ s, w: { name: s.name, exited: null, healthzOk: 0, healthzFailed: 0, firstHealthzFailure: null, readyz: {}, maxRssMB: 0 } as ReplicaWatch }));
  let stopped = false;
  const loops = watches.map(async ({ s, w }) => {
    while (!stopped) {
      const next = new Promise((r) => setTimeout(r, everyMs));
      const [h, r] = await Promise.all([status(`${s.url}/healthz`), status(`${s.url}/readyz`)]);
      if (h === '200') w.healthzOk++;
      else {
        w.healthzFailed++;
        w.firstHealthzFailure ??= h;
      }
      w.readyz[r] = (w.readyz[r] ?? 0) + 1;
      w.maxRssMB = Math.max(w.maxRssMB, rssMB(s.child.pid));
      if (s.child.exit) w.exited ??= `exited (${s.child.exit.code ?? s.child.exit.signal})`;
      await next;
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      for (const { s, w } of watches) if (s.child.exit) w.exited ??= `exited (${s.child.exit.code ?? s.child.exit.signal})`;
      return watches.map((x) => x.w);
    },
  };
}
