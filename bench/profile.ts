// Where a target fails, a CPU profile of the hub under that load: a fresh
// replica started with --cpu-prof, the load for a few seconds, a clean stop
// (the profile is written at exit), then the top of the profile by self time
// and by package.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BODY_BYTES } from './generators/body.js';
import { type Ctx, round } from './scenarios/context.js';
import { deliveryStep, openRig } from './scenarios/delivery.js';
import { LOGIN_FLOOD_ENV, OPEN_RATE } from './scenarios/login-flood.js';

export interface ProfileResult {
  target: string;
  load: string;
  seconds: number;
  samples: number;
  topFunctions: Array<{ selfPct: number; fn: string; where: string }>;
  topPackages: Array<{ selfPct: number; pkg: string }>;
}

interface CpuProfile {
  nodes: Array<{ id: number; hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function packageOf(url: string): string {
  if (!url) return '(native / VM)';
  if (url.startsWith('node:')) return 'node internals';
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (m) return m[1];
  if (url.includes('/dist/src/')) return 'crosswire (src)';
  return 'other';
}

/**
 * Self time per function and per package over the samples taken between
 * `fromMs` and `toMs` after the profile started (the load, not start-up).
 */
export function summarizeProfile(file: string, target: string, load: string, fromMs = 0, toMs = Infinity): ProfileResult {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const hitsOf = new Map<number, number>();
  let t = 0;
  let total = 0;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (t / 1000 < fromMs || t / 1000 > toMs) return;
    hitsOf.set(id, (hitsOf.get(id) ?? 0) + 1);
    total++;
  });
  total ||= 1;
  const fns = new Map<string, { fn: string; where: string; hits: number }>();
  const pkgs = new Map<string, number>();
  for (const n of p.nodes) {
    const hits = hitsOf.get(n.id) ?? 0;
    if (!hits || n.callFrame.functionName === '(idle)') continue;
    const where = n.callFrame.url ? `${n.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/').replace(/^file:\/\//, '')}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${n.callFrame.functionName}@${where}`;
    const e = fns.get(key) ?? { fn: n.callFrame.functionName || '(anonymous)', where, hits: 0 };
    e.hits += hits;
    fns.set(key, e);
    const pkg = n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : packageOf(n.callFrame.url);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + hits);
  }
  const idle = p.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((a, n) => a + (hitsOf.get(n.id) ?? 0), 0);
  return {
    target,
    load,
    seconds: round(Math.min(toMs, (p.endTime - p.startTime) / 1000) / 1000 - fromMs / 1000, 1),
    samples: total,
    topFunctions: [...fns.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, 15)
      .map((e) => ({ selfPct: round((e.hits / total) * 100, 1), fn: e.fn, where: e.where })),
    topPackages: [...pkgs.entries(), ['(idle)', idle] as [string, number]]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([pkg, hits]) => ({ selfPct: round((hits / total) * 100, 1), pkg })),
  };
}

export type ProfileLoad = 'fanout' | 'publish-rest' | 'read-get' | 'login-flood';

export async function profileHub(ctx: Ctx, load: ProfileLoad, target: string): Promise<ProfileResult> {
  const dir = path.join(ctx.topo.dir, 'profiles', load);
  mkdirSync(dir, { recursive: true });
  await ctx.topo.ensure('baseline', 0);
  await ctx.topo.ensure('hub', 0);
  const spawnedAt = Date.now();
  const hub = await ctx.topo.startServer('hub', 0, ['--cpu-prof', '--cpu-prof-dir', dir], load === 'login-flood' ? LOGIN_FLOOD_ENV : {});
  const users = await ctx.users(509);
  const [channelId] = await ctx.seed.channels(users[0], 1, `profile-${load}`);
  const seconds = ctx.profile.quick ? 2 : 5;
  let description: string;
  let loadFrom: number;
  if (load === 'fanout') {
    description = `500 subscribers, 100 msg/s over the socket, ${seconds} s`;
    const rig = await openRig(ctx, { side: 'hub', subServers: [hub], pubServers: [hub], subscribers: 500, channelId: channelId });
    loadFrom = Date.now();
    await deliveryStep(ctx, rig, { name: 'profile', tag: `prof-${Date.now()}`, rate: 100, durationMs: seconds * 1000, channelId: channelId });
    await rig.close();
  } else if (load === 'login-flood') {
    description = `an open loop of ${OPEN_RATE.toLocaleString('en-US')} refused logins/s from one address, ${seconds} s`;
    const flood = await ctx.topo.generators.job(ctx.topo.generators.gens.length - 1, 'login-flood', { url: hub.url });
    await flood.call('prime', { address: '203.0.113.99' });
    loadFrom = Date.now();
    await flood.call('begin', { address: '203.0.113.99', mode: 'open', rate: OPEN_RATE });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    await flood.call('end');
    await flood.stop();
  } else {
    const publish = load === 'publish-rest';
    description = publish ? `REST publishes, 32 concurrent, one channel, ${seconds} s` : `GET history (latest 50), 32 connections, ${seconds} s`;
    if (!publish) await ctx.seed.messages(channelId, users[0], 100, BODY_BYTES);
    const job = await ctx.topo.generators.job(0, 'http-load', {
      url: hub.url,
      path: `/api/channels/${channelId}/messages${publish ? '' : '?limit=50'}`,
      method: publish ? 'POST' : 'GET',
      token: users[0].token,
      connections: 32,
      durationMs: seconds * 1000,
      ...(publish ? { publish: { bytes: BODY_BYTES, tag: `prof-${Date.now()}` } } : {}),
    });
    loadFrom = Date.now();
    await job.call('run');
    await job.stop();
  }
  const loadTo = Date.now();
  await ctx.topo.stopServer('hub', 0); // SIGINT: the hub closes and exits, writing the profile
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !(existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.cpuprofile')))) await new Promise((r) => setTimeout(r, 200));
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no CPU profile written in ${dir}`);
  // Profile time starts with the process: only the load's samples count (a margin for the spawn).
  return summarizeProfile(path.join(dir, file), target, description, loadFrom - spawnedAt + 200, loadTo - spawnedAt);
}
