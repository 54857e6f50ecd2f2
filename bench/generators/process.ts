// A load generator process. The orchestrator (bench/generators/pool.ts) starts
// several, each hosting jobs (clients of one kind) it drives over IPC, so the
// clients' CPU is spread over processes and measured per process.
import { isEntry } from '../../scripts/entry.js';
import { type CrowdArgs, CrowdJob } from './crowd.js';
import { type DuplexArgs, DuplexJob } from './duplex.js';
import { type FloodArgs, FloodJob } from './flood.js';
import { type HttpLoadArgs, HttpLoadJob } from './http-load.js';
import { type LoginFloodArgs, LoginFloodJob } from './login-flood.js';
import { type PollersArgs, PollersJob } from './pollers.js';
import type { Job, JobKind, Reply, Request } from './protocol.js';
import { type PublishersArgs, PublishersJob } from './publishers.js';
import { type BaselineStormArgs, BaselineStormJob, type StormArgs, StormJob } from './storm.js';
import { type SubscribersArgs, SubscribersJob } from './subscribers.js';

// The args come over IPC as the orchestrator wrote them for that kind.
const makers: Record<JobKind, (args: unknown) => Job> = {
  subscribers: (a) => new SubscribersJob(a as SubscribersArgs),
  publishers: (a) => new PublishersJob(a as PublishersArgs),
  pollers: (a) => new PollersJob(a as PollersArgs),
  storm: (a) => new StormJob(a as StormArgs),
  duplex: (a) => new DuplexJob(a as DuplexArgs),
  'http-load': (a) => new HttpLoadJob(a as HttpLoadArgs),
  flood: (a) => new FloodJob(a as FloodArgs),
  'login-flood': (a) => new LoginFloodJob(a as LoginFloodArgs),
  'baseline-storm': (a) => new BaselineStormJob(a as BaselineStormArgs),
  crowd: (a) => new CrowdJob(a as CrowdArgs),
};

function main(): void {
  const jobs = new Map<number, Job>();
  const reply = (r: Reply) => process.send?.(r);
  process.on('message', (raw) => {
    const req = raw as Request;
    void (async () => {
      try {
        let value: unknown;
        if (req.op === 'start') {
          const job = makers[req.kind](req.args);
          jobs.set(req.job, job);
          value = await job.start();
        } else if (req.op === 'call') {
          value = await jobs.get(req.job)!.call(req.name, req.args);
        } else {
          await jobs.get(req.job)?.stop();
          jobs.delete(req.job);
        }
        reply({ id: req.id, ok: true, value });
      } catch (e) {
        reply({ id: req.id, ok: false, error: (e as Error).stack ?? String(e) });
      }
    })();
  });
  // The orchestrator gone (killed, crashed): nothing of ours may linger.
  process.on('disconnect', () => process.exit(0));
  process.on('unhandledRejection', (e) => console.error(`unhandled rejection: ${String(e)}`));
}

if (isEntry(import.meta.url)) main();
