// Messages between the orchestrator and a generator process (IPC).
export type JobKind = 'subscribers' | 'publishers' | 'pollers' | 'storm' | 'duplex' | 'http-load' | 'flood' | 'login-flood' | 'baseline-storm' | 'crowd';

export type Command = { op: 'start'; job: number; kind: JobKind; args: unknown } | { op: 'call'; job: number; name: string; args?: unknown } | { op: 'stop'; job: number };
export type Request = Command & { id: number };

export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** What every job offers; `call` reaches its named commands. */
export interface Job {
  start(): Promise<unknown>;
  call(name: string, args: unknown): Promise<unknown>;
  stop(): Promise<void>;
}
