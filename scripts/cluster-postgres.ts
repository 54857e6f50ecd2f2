// Embedded Postgres for `npm run cluster`, in a process of its own: the
// cluster script starts it detached (its own process group), so a Ctrl-C at
// the terminal reaches only the script, which stops Postgres last, after the
// replicas have drained. It reports its URL over the IPC channel and stops
// Postgres when told (SIGTERM/SIGINT) or when the script goes away.
//
//   node dist/scripts/cluster-postgres.js DATA_DIR PORT
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';

const [dataDir, portArg] = process.argv.slice(2);
const port = Number(portArg);
if (!dataDir || !Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: cluster-postgres.js DATA_DIR PORT');
  process.exit(2);
}

const log = (msg: string, fields?: Record<string, unknown>) => console.log(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }));

let stopRequested = false;
let handle: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
const stop = async (why: string) => {
  if (stopRequested) return;
  stopRequested = true;
  log('stopping postgres', { why });
  if (!handle) return; // still starting: stopped below once it is up
  await handle.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
process.on('disconnect', () => void stop('cluster script gone'));

try {
  handle = await startEmbeddedPostgres({ dataDir, port, log });
  if (stopRequested) {
    await handle.stop();
    process.exit(0);
  }
  process.send?.({ ready: true, url: handle.url });
} catch (e) {
  log('postgres failed to start', { err: (e as Error).message });
  process.send?.({ ready: false, error: (e as Error).message });
  process.exit(1);
}
