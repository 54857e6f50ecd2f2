import { type ChildProcess, spawn } from 'node:child_process';

/** SIGKILLs a child process (if still running) and resolves once it is gone. */
export async function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

/** A real redis-server on loopback without persistence: a restart comes back empty. */
export class RedisProcess {
  child?: ChildProcess;
  constructor(readonly port: number) {}

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((ok, fail) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('Ready to accept connections')) ok();
      });
      child.on('exit', (code) => fail(new Error(`redis-server exited ${code}: ${out}`)));
    });
  }

  stop(): Promise<void> {
    return killAndWait(this.child);
  }
}
