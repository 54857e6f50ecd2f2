// The orchestrator's side of the generator processes: starts them, hands them
// jobs over IPC, and stops them (they also exit when the orchestrator dies).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, startChild, stopChild } from '../../scripts/cluster-children.js';
import type { TrackedProcess } from '../procs.js';
import type { Command, JobKind, Reply } from './protocol.js';

const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'process.js');

export class Generator {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(
    readonly name: string,
    readonly child: Child,
  ) {
    child.proc.on('message', (raw) => {
      const r = raw as Reply;
      const w = this.waiting.get(r.id);
      if (!w) return;
      this.waiting.delete(r.id);
      if (r.ok) w.resolve(r.value);
      else w.reject(new Error(`${name}: ${r.error}`));
    });
    void child.exited.then((exit) => {
      for (const w of this.waiting.values()) w.reject(new Error(`${name} exited (${exit.code ?? exit.signal}); log: ${child.logFile}`));
      this.waiting.clear();
    });
  }

  send(req: Command): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.proc.send({ ...req, id });
    });
  }
}

let jobIds = 1;

export class JobHandle<S = unknown> {
  constructor(
    readonly gen: Generator,
    readonly id: number,
    readonly started: S,
  ) {}
  call<T = unknown>(name: string, args?: unknown): Promise<T> {
    return this.gen.send({ op: 'call', job: this.id, name, args }) as Promise<T>;
  }
  stop(): Promise<unknown> {
    return this.gen.send({ op: 'stop', job: this.id });
  }
}

export class GeneratorPool {
  readonly gens: Generator[] = [];

  constructor(
    private readonly logDir: string,
    private readonly onChild: (c: Child) => void,
  ) {}

  start(count: number): void {
    for (let i = 0; i < count; i++) {
      const name = `gen${i + 1}`;
      const child = startChild({ name, role: 'generator', command: process.execPath, args: [ENTRY], env: process.env, logDir: this.logDir, ipc: true });
      this.onChild(child);
      this.gens.push(new Generator(name, child));
    }
  }

  async job<S = unknown>(gen: number, kind: JobKind, args: unknown): Promise<JobHandle<S>> {
    const g = this.gens[gen % this.gens.length];
    const id = jobIds++;
    const started = (await g.send({ op: 'start', job: id, kind, args })) as S;
    return new JobHandle<S>(g, id, started);
  }

  /** `total` clients split over every generator: argsFor(i, count, offset) makes each one's args. */
  async spread<S = unknown>(kind: JobKind, total: number, argsFor: (count: number, offset: number) => unknown, gens = this.gens.length): Promise<JobHandle<S>[]> {
    const n = Math.min(gens, this.gens.length, Math.max(1, total));
    const jobs: Promise<JobHandle<S>>[] = [];
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const count = Math.floor(total / n) + (i < total % n ? 1 : 0);
      jobs.push(this.job<S>(i, kind, argsFor(count, offset)));
      offset += count;
    }
    return Promise.all(jobs);
  }

  tracked(): TrackedProcess[] {
    return this.gens.map((g) => ({ name: g.name, pid: g.child.pid, kind: 'generator' as const }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.gens.map((g) => stopChild(g.child, 3000)));
  }
}
