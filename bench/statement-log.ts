// Which SQL statements a replica sends, counted exactly: Postgres logs every
// statement for a while (log_statement = all, set with ALTER SYSTEM and a
// reload, reset the same way), and the embedded Postgres' log in the run
// directory is read back. pg_stat_database's transaction counts would not do:
// in a trial they held ~6 times the transactions the statement log showed for
// the same 30 s (background work's, autovacuum's most likely).
import { openSync, readSync, statSync, closeSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';

/** Postgres' log line prefix while logging: the application name marks whose statement it is. */
const PREFIX = '%m [%p] app=%a ';
const STATEMENT = /\bapp=(\S*) LOG: {2}(?:statement|execute [^:]*): (.*)$/;
/** This module's own connection, left out of every count. */
const SELF = 'crosswire-bench-statements';

export interface Statement {
  app: string;
  sql: string;
}

/** The statements in the helper's log (one JSON record per line: {"line": "<postgres' line>"}), in order. */
export function parseStatements(text: string): Statement[] {
  const out: Statement[] = [];
  for (const record of text.split('\n')) {
    if (!record.includes('app=')) continue;
    let line: unknown;
    try {
      line = (JSON.parse(record) as { line?: unknown }).line;
    } catch {
      continue; // a record cut at the end of what was read
    }
    const m = typeof line === 'string' ? STATEMENT.exec(line) : null;
    if (m) out.push({ app: m[1], sql: m[2] });
  }
  return out;
}

export interface PerPass {
  /** Whole passes counted: from the first pass start seen to the last one, which is not counted. */
  passes: number;
  /** Statements of those passes, divided by passes. */
  perPass: number;
  /** The same by statement (its first 60 characters), per pass. */
  bySql: Record<string, number>;
}

/**
 * Statements per pass of a loop whose every pass begins with a statement that
 * `isStart` recognises: only whole passes count, those from the first start
 * seen up to the last (a pass cut by the log's start or end is left out).
 * Null with fewer than two starts.
 */
export function perPass(statements: Statement[], isStart: (s: Statement) => boolean): PerPass | null {
  const starts = statements.flatMap((s, i) => (isStart(s) ? [i] : []));
  if (starts.length < 2) return null;
  const whole = statements.slice(starts[0], starts[starts.length - 1]);
  const passes = starts.length - 1;
  const bySql: Record<string, number> = {};
  for (const s of whole) {
    const key = s.sql.slice(0, 60);
    bySql[key] = (bySql[key] ?? 0) + 1;
  }
  for (const k of Object.keys(bySql)) bySql[k] = bySql[k] / passes;
  return { passes, perPass: whole.length / passes, bySql };
}

/** Turns statement logging on, collects what the log gains, and turns it off. */
export class StatementLog {
  private offset = 0;

  private constructor(
    private readonly client: pg.Client,
    private readonly logFile: string,
  ) {}

  static async start(databaseUrl: string, logFile: string): Promise<StatementLog> {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: SELF });
    await client.connect();
    const log = new StatementLog(client, logFile);
    log.offset = statSync(logFile).size;
    // Parameters left out: the tick's arrays of 10,000 ids would make each line ~0.4 MB.
    for (const sql of [`ALTER SYSTEM SET log_statement = 'all'`, `ALTER SYSTEM SET log_line_prefix = '${PREFIX}'`, 'ALTER SYSTEM SET log_parameter_max_length = 0', 'SELECT pg_reload_conf()'])
      await client.query(sql);
    return log;
  }

  /** Statements logged since start() by others than this module. */
  statements(): Statement[] {
    return parseStatements(this.read()).filter((s) => s.app !== SELF);
  }

  /** Resolves once `done` holds for what was logged, read every 200 ms (the log is a file another process writes). */
  async until(done: (s: Statement[]) => boolean, ms: number): Promise<Statement[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = this.statements();
      if (done(s)) return s;
      if (Date.now() > deadline) throw new Error(`statement log: condition not met within ${ms / 1000} s (${s.length} statements logged)`);
      await delay(200);
    }
  }

  /** Logging back off; resolves once this marker, logged last, has reached the file (so has everything before it). */
  async stop(): Promise<void> {
    try {
      const marker = `statement log ends ${process.pid}-${Date.now()}`;
      for (const sql of ['ALTER SYSTEM RESET log_statement', 'ALTER SYSTEM RESET log_line_prefix', 'ALTER SYSTEM RESET log_parameter_max_length']) await this.client.query(sql);
      // Logged under the old settings: this session's own reload happens only after its statement.
      await this.client.query(`SELECT pg_reload_conf(), '${marker}'`);
      const deadline = Date.now() + 10_000;
      while (!this.read().includes(marker) && Date.now() < deadline) await delay(100);
    } finally {
      await this.client.end();
    }
  }

  private read(): string {
    const fd = openSync(this.logFile, 'r');
    try {
      const size = statSync(this.logFile).size;
      const buf = Buffer.alloc(Math.max(0, size - this.offset));
      readSync(fd, buf, 0, buf.length, this.offset);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  }
}
