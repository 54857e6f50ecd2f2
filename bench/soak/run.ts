// `npm run soak -- --minutes N`: a small real cluster (bench/topology.ts: its
// own Postgres, Redis and hub replicas) under clients, publishers, reconnects
// and restarts of the last replica for N minutes. Every --sample-s it records
// each replica's heap after forced GC, RSS, handles and event-loop lag, and
// the clients' delivery lag; it writes them with their slopes after the
// warm-up to <out>/soak-<date>.json and charts them in soak-<date>.svg, where
// a leak shows as a slope. Leaves nothing running, on success, error or signal.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isEntry } from '../../scripts/entry.js';
import { Seeder } from '../seed.js';
import { Topology } from '../topology.js';
import { SoakLoad } from './load.js';
import { type SoakOptions, SoakUsage, parseSoakArgs } from './options.js';
import { type LagSample, type SoakResults, computeSlopes, renderSoakChart } from './report.js';
import { type ReplicaSample, sampleReplica } from './sampler.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(s.length * p))] * 10) / 10;
}

export async function soak(opts: SoakOptions, argv: string[], say: (m: string) => void = (m) => console.log(`[soak] ${m}`)): Promise<SoakResults & { files: { json: string; svg: string } }> {
  const started = new Date();
  const topo = new Topology(say, path.join(ROOT, '.data', 'soak-state'));
  say(`run directory (logs; removed at the end): ${topo.dir}`);
  let stopping = false;
  const onSignal = (sig: string) => {
    if (stopping) return;
    stopping = true;
    say(`${sig}: stopping every process of this run …`);
    void topo.stop().finally(() => process.exit(130));
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const handlers = signals.map((sig) => [sig, () => onSignal(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  let seed: Seeder | undefined;
  let load: SoakLoad | undefined;
  try {
    await topo.start(0);
    seed = new Seeder(topo.databaseUrl, topo.secretFile);
    const [user] = await seed.users(1);
    const channels = await seed.channels(user, opts.channels, 'soak');
    await topo.ensure('hub', opts.replicas);
    const adminToken = readFileSync(topo.secretFile, 'utf8').trim();
    const last = opts.replicas - 1;
    const restarted = `hub${last + 1}`;
    const measured = Array.from({ length: last }, (_, i) => `hub${i + 1}`);
    say(`${opts.replicas} replicas up; ${opts.clients} clients on ${opts.channels} channels, ${opts.rate} messages/s, ${restarted} restarted every ${opts.restartEveryS} s, for ${opts.minutes} min`);

    load = new SoakLoad(() => topo.running('hub').map((s) => s.url), user.token, channels);
    const t0 = Date.now();
    const endAt = t0 + opts.minutes * 60_000;
    const since = () => Math.round((Date.now() - t0) / 100) / 10;
    load.start(opts.clients, opts.rate, opts.churnEveryMs);

    const replicaSamples: ReplicaSample[] = [];
    const deliveryLag: LagSample[] = [];
    const restarts: SoakResults['restarts'] = [];

    const sampling = (async () => {
      for (let k = 0; t0 + k * opts.sampleS * 1000 <= endAt && !stopping; k++) {
        await sleep(t0 + k * opts.sampleS * 1000 - Date.now());
        const t = since();
        const lags = load.take();
        deliveryLag.push({ t, samples: lags.length, p50Ms: percentile(lags, 0.5), p99Ms: percentile(lags, 0.99) });
        // One at a time: a forced GC and the inspector cost each replica a pause.
        for (const s of topo.running('hub')) replicaSamples.push(await sampleReplica({ name: s.name, url: s.url, pid: s.child.pid, inspectPort: s.inspectPort }, t, adminToken));
        const mine = replicaSamples.filter((s) => s.t === t);
        say(
          `t=${t}s ${mine.map((s) => `${s.replica} heap ${s.heapAfterGcBytes === null ? '?' : (s.heapAfterGcBytes / 1048576).toFixed(1)} MB, ${s.socketsOpen ?? '?'} sockets`).join('; ')}; lag p99 ${deliveryLag[deliveryLag.length - 1].p99Ms} ms`,
        );
      }
    })();
    const restarting = (async () => {
      if (opts.restartEveryS <= 0) return;
      for (let k = 1; !stopping; k++) {
        const at = t0 + k * opts.restartEveryS * 1000;
        if (at >= endAt - 5_000) return;
        await sleep(at - Date.now());
        // In turn: a drain (clients told to reconnect) and a crash (clients find out).
        const signal = k % 2 === 1 ? 'SIGTERM' : 'SIGKILL';
        restarts.push({ t: since(), signal });
        if (signal === 'SIGKILL') await topo.killServer('hub', last);
        else await topo.stopServer('hub', last, 'SIGTERM');
        await topo.startServer('hub', last);
        say(`t=${since()}s ${restarted} restarted after ${signal}`);
      }
    })();
    await Promise.all([sampling, restarting]);
    load.stop();

    const results: SoakResults = {
      version: 1,
      command: `npm run soak${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
      startedAt: started.toISOString(),
      durationS: Math.round((Date.now() - t0) / 1000),
      options: { ...opts },
      measured,
      restarted,
      restarts,
      replicaSamples,
      deliveryLag,
      counters: load.counters,
      slopes: computeSlopes(replicaSamples, measured, opts.warmupS),
    };
    mkdirSync(opts.out, { recursive: true });
    const stamp = started.toISOString().replace(/[:.]/g, '-');
    const json = path.join(opts.out, `soak-${stamp}.json`);
    const svg = path.join(opts.out, `soak-${stamp}.svg`);
    writeFileSync(json, JSON.stringify(results, null, 2) + '\n');
    writeFileSync(svg, await renderSoakChart(results, opts.warmupS));
    for (const [name, s] of Object.entries(results.slopes)) {
      const mb = s.heapAfterGcBytesPerMin === null ? '?' : (s.heapAfterGcBytesPerMin / 1048576).toFixed(3);
      say(`${name}: heap after GC ${mb} MB/min, handles ${s.handlesPerMin?.toFixed(2) ?? '?'} /min over ${s.samples} samples after the warm-up`);
    }
    const c = results.counters;
    say(`delivered ${c.delivered}, published ${c.published} (retries ${c.publishRetries}), reconnects ${c.reconnects}, violations ${c.violations.length}`);
    say(`results: ${path.relative(process.cwd(), json)}; chart: ${path.relative(process.cwd(), svg)}`);
    return { ...results, files: { json, svg } };
  } finally {
    load?.stop();
    await seed?.close().catch(() => undefined);
    await topo.stop();
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let opts: SoakOptions;
  try {
    opts = parseSoakArgs(argv, ROOT);
  } catch (e) {
    if (!(e instanceof SoakUsage)) throw e;
    console.error(e.message);
    process.exit(2);
  }
  try {
    await soak(opts, argv);
  } catch (e) {
    console.error(`[soak] failed: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  }
  // Sockets and agents of the orchestrator itself may hold the loop open.
  setTimeout(() => process.exit(), 500).unref();
}

if (isEntry(import.meta.url)) void main();
