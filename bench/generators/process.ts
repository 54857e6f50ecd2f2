// A load generator process. The orchestrator (bench/generators/pool.ts) starts
// several, each hosting jobs (clients of one kind) it drives over IPC, so the
// clients' CPU is spread over processes and measured per process.
import { isEntry } from '../../scripts/entry.js';
import { DuplexJob } from './duplex.js';
import { FloodJob } from './flood.js';
import { HttpLoadJob } from './http-load.js';
import { LoginFloodJob } from './login-flood.js';
import { PollersJob } from './pollers.js';
import type { Job, JobKind, Reply, Request } from './protocol.js';
import { PublishersJob } from './publishers.js';
import { StormJob } from './storm.js';
import { SubscribersJob } from './subscribers.js';

const makers: Record<JobKind, (args: any) => Job> = {
  subscribers: (a) => new SubscribersJob(a),
  publishers: (a) => new PublishersJob(a),
  pollers: (a) => new PollersJob(a),
  storm: (a) => new StormJob(a),
  duplex: (a) => new DuplexJob(a),
  'http-load': (a) => new HttpLoadJob(a),
  flood: (a) => new FloodJob(a),
  'login-flood': (a) => new LoginFloodJob(a),
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
