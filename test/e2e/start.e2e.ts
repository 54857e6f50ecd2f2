import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../support/free-port.js';
import { api } from './support/hub.js';

const MAIN = resolve('dist/src/main.js');

interface Started {
  child: ChildProcess;
  lines: any[];
  exited: Promise<number | null>;
}

/** Runs the built hub as `npm start` does, with only the given environment, until it listens. */
function startProcess(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: any[] = [];
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolveStart, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const parsed = JSON.parse(line);
          lines.push(parsed);
          if (parsed.msg === 'crosswire listening') resolveStart({ child, lines, exited });
        } catch {
          lines.push(line);
        }
      }
    });
    void exited.then((code) => reject(new Error(`hub exited ${code} before listening: ${stderr} ${JSON.stringify(lines.slice(-5))}`)));
  });
}

const postgresFor = (dataDir: string) => {
  try {
    return execFileSync('pgrep', ['-f', dataDir]).toString().trim();
  } catch {
    return '';
  }
};

describe('npm start: embedded defaults, clean stop, data kept across restarts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'crosswire-start-'));
  chmodSync(dataDir, 0o755);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts with no configuration, stops on SIGTERM leaving nothing behind, and a second start keeps users and the secret', async () => {
    expect(existsSync(MAIN)).toBe(true);
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()) };
    const first = await startProcess(env);
    expect(first.lines.some((l) => l.level === 'warn' && /JWT_SECRET unset: generated a development secret/.test(l.msg))).toBe(true);
    expect(first.lines.some((l) => l.msg === 'migrations applied')).toBe(true);
    const secret = readFileSync(join(dataDir, 'jwt-secret'), 'utf8');
    const call = api(`http://127.0.0.1:${env.PORT}`);
    const reg = await call('POST', '/api/auth/register', { username: 'keeper', password: 'password123' });
    expect(reg.status).toBe(201);
    expect(postgresFor(dataDir)).not.toBe('');

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(postgresFor(dataDir)).toBe('');

    const second = await startProcess(env);
    expect(second.lines.some((l) => /generated a development secret/.test(l.msg ?? ''))).toBe(false);
    expect(readFileSync(join(dataDir, 'jwt-secret'), 'utf8')).toBe(secret);
    expect((await call('GET', '/api/me', undefined, reg.body.token)).status).toBe(200);
    expect((await call('POST', '/api/auth/login', { username: 'keeper', password: 'password123' })).status).toBe(200);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(postgresFor(dataDir)).toBe('');
  }, 90_000);

  it('a bad configuration stops start-up with the list of bad keys', () => {
    let out = '';
    let status: number | null = 0;
    try {
      execFileSync(process.execPath, [MAIN], { env: { PATH: process.env.PATH!, PORT: 'eighty', JWT_TTL: 'soon', DATA_DIR: dataDir }, stdio: 'pipe' });
    } catch (e) {
      const err = e as { status: number; stderr: Buffer };
      status = err.status;
      out = err.stderr.toString();
    }
    expect(status).toBe(2);
    expect(out).toMatch(/PORT/);
    expect(out).toMatch(/JWT_TTL/);
  });

  it('REDIS_URL without a shared secret refuses to start', async () => {
    const child = await startProcess({ DATA_DIR: dataDir, REDIS_URL: 'redis://127.0.0.1:1', PORT: String(await freePort()) }).then(
      () => 'started',
      (e: Error) => e.message,
    );
    expect(child).toMatch(/JWT_SECRET: required when REDIS_URL is set/);
  });
});
