import pg from 'pg';
import { withTimeout } from '../common/with-timeout.js';

/**
 * Readiness's own Postgres connection, outside the app's pool: publishes
 * holding every pooled connection (a hot channel's row lock) must not look
 * like a database that is gone. A failed or slow probe drops the connection;
 * the next one connects afresh.
 */
export class PostgresProbe {
  private client?: pg.Client;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  /** True when Postgres answered `SELECT 1` within the timeout (connecting included). */
  async check(): Promise<boolean> {
    const ok = await withTimeout(this.query(), this.timeoutMs, false);
    if (!ok) this.drop();
    return ok;
  }

  private async query(): Promise<boolean> {
    try {
      if (!this.client) {
        const client = new pg.Client({
          connectionString: this.url,
          connectionTimeoutMillis: this.timeoutMs,
          application_name: 'crosswire-readiness',
        });
        // A server restart or a dropped socket surfaces here; the next probe reconnects.
        client.on('error', () => this.drop(client));
        this.client = client;
        await client.connect();
      }
      await this.client.query('SELECT 1');
      return true;
    } catch {
      this.drop();
      return false;
    }
  }

  private drop(which = this.client) {
    if (!which) return;
    if (this.client === which) this.client = undefined;
    which.end().catch(() => undefined);
  }

  close(): void {
    this.drop();
  }
}
