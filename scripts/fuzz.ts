// `npm run fuzz -- [--runs N] [--seed S]`: the hostile-input fuzzer of
// test/e2e/fuzz.e2e.ts, for longer. It starts an embedded Postgres (under
// .data/fuzz, a fresh database per run) and the built hub as a process of its
// own, runs N seeded cases (60% REST requests, 30% socket events, 10%
// handshakes) and prints the seed first, so a failure reproduces with the
// same --seed and --runs. Exit 1 when anything violated the contract.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { isEntry } from './entry.js';
import { freePort } from './free-port.js';
import { runFuzz, summary } from './fuzz/run.js';

export function splitRuns(runs: number) {
  const restRuns = Math.round(runs * 0.6);
  const eventRuns = Math.round(runs * 0.3);
  return { restRuns, eventRuns, handshakeRuns: Math.max(0, runs - restRuns - eventRuns) };
}

/** The built hub (dist/src/main.js) on its own port, against `databaseUrl`, with rate limits off so the flood is not refused for rate. */
async function startHub(databaseUrl: string, secret: string): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [resolve('dist/src/main.js')], {
    env: { PATH: process.env.PATH!, DATABASE_URL: databaseUrl, JWT_SECRET: secret, PORT: String(port), HOST: '127.0.0.1', RATE_LIMITS: 'off', LOG_LEVEL: 'warn', REPLICA_ID: 'fuzz' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`the hub exited ${code} before it was ready`)));
    const poll = setInterval(() => {
      void fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200 && (clearInterval(poll), ok()),
        () => undefined,
      );
    }, 200);
  });
  child.stdout.resume();
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '20000' }, seed: { type: 'string' } } });
  const runs = Number(values.runs);
  const seed = values.seed === undefined ? randomBytes(4).readInt32LE() : Number(values.seed);
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
    console.error('usage: npm run fuzz -- [--runs N] [--seed S]   (integers)');
    return 2;
  }
  console.log(`fuzz: seed ${seed}, ${runs} cases (reproduce: npm run fuzz -- --runs ${runs} --seed ${seed})`);
  const log = () => undefined;
  const database = `fuzz_${Date.now()}`;
  const pgServer = await startEmbeddedPostgres({ dataDir: resolve('.data/fuzz/postgres'), port: await freePort(), database, log });
  const secret = randomBytes(32).toString('hex');
  let hub: Awaited<ReturnType<typeof startHub>> | undefined;
  try {
    hub = await startHub(pgServer.url, secret);
    const child = hub.child;
    const report = await runFuzz(
      { url: hub.url, databaseUrl: pgServer.url, secret, alive: () => child.exitCode === null && child.signalCode === null },
      { seed, ...splitRuns(runs), progress: (line) => console.log(`fuzz: ${line}`) },
    );
    console.log(summary(report));
    return report.violations.length ? 1 : 0;
  } finally {
    await hub?.stop();
    const admin = new pg.Client({ connectionString: `${pgServer.serverUrl}/postgres` });
    await admin
      .connect()
      .then(() => admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`))
      .finally(() => admin.end());
    await pgServer.stop();
  }
}

if (isEntry(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`fuzz: ${(e as Error).stack ?? String(e)}`);
      process.exit(1);
    },
  );
}
