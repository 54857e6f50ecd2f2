import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../../src/database/embedded-postgres.js';
import { migrate } from '../../../src/database/migrator.js';
import { freePort } from '../../support/free-port.js';

/**
 * A migrated Postgres server of the test's own, which the test may stop and
 * start again (same data directory and port), unlike the run's shared one.
 */
export class OwnPostgres {
  private handle?: EmbeddedPostgresHandle;
  private tmp = '';
  private port = 0;

  get url(): string {
    return this.handle!.url;
  }

  async start(): Promise<void> {
    if (!this.tmp) {
      this.tmp = await mkdtemp(join(tmpdir(), 'crosswire-own-pg-'));
      await chmod(this.tmp, 0o755); // the postgres OS user must traverse it when tests run as root
      this.port = await freePort();
    }
    const fresh = !this.handle;
    this.handle = await startEmbeddedPostgres({
      dataDir: join(this.tmp, 'data'),
      port: this.port,
      postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    });
    if (fresh) await migrate(this.handle.url);
  }

  async stop(): Promise<void> {
    await this.handle?.stop();
  }

  /** Stops it and deletes its data. */
  async remove(): Promise<void> {
    await this.stop();
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
  }
}
