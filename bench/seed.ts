// Bench users and channels, written straight into the database, and tokens
// signed with the run's own secret: 5,000 registrations through the API would
// spend minutes of CPU on scrypt. The password hash is a placeholder no
// password matches, so these users cannot log in; their tokens are what the hub
// itself would issue (src/auth/tokens.ts).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { TokenSigner } from '../src/auth/tokens.js';

export interface BenchUser {
  id: string;
  token: string;
}

export class Seeder {
  private readonly pool: pg.Pool;
  private readonly signer: TokenSigner;
  private readonly run = randomBytes(3).toString('hex');
  private userCount = 0;
  private channelCount = 0;

  constructor(databaseUrl: string, secretFile: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    // An idle connection cut by Postgres stopping (end of run, Ctrl-C) is no error of the run.
    this.pool.on('error', () => undefined);
    this.signer = new TokenSigner(readFileSync(secretFile, 'utf8').trim(), 24 * 3600);
  }

  async users(n: number): Promise<BenchUser[]> {
    const from = this.userCount;
    this.userCount += n;
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO users (id, username, password_hash)
       SELECT gen_random_uuid(), 'b' || $1 || '_' || i, '!bench-no-login'
       FROM generate_series($2::int, $3::int) AS i RETURNING id`,
      [this.run, from, from + n - 1],
    );
    return Promise.all(rows.map(async (r) => ({ id: r.id, token: await this.signer.sign(r.id, 0) })));
  }

  /** Public channels, so any bench user may subscribe and publish without a membership. */
  async channels(owner: BenchUser, n: number, label: string): Promise<string[]> {
    const from = this.channelCount;
    this.channelCount += n;
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO channels (id, name, visibility, owner_id)
       SELECT gen_random_uuid(), $1 || '-' || i, 'public', $2 FROM generate_series($3::int, $4::int) AS i RETURNING id`,
      [`${label}-${this.run}`, owner.id, from, from + n - 1],
    );
    await this.pool.query(`INSERT INTO memberships (channel_id, user_id, role) SELECT unnest($1::uuid[]), $2, 'owner'`, [rows.map((r) => r.id), owner.id]);
    return rows.map((r) => r.id);
  }

  /** Private channels, `owner` their only member until members() adds others. */
  async privateChannels(owner: BenchUser, n: number, label: string): Promise<string[]> {
    const from = this.channelCount;
    this.channelCount += n;
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO channels (id, name, visibility, owner_id)
       SELECT gen_random_uuid(), $1 || '-' || i, 'private', $2 FROM generate_series($3::int, $4::int) AS i RETURNING id`,
      [`${label}-${this.run}`, owner.id, from, from + n - 1],
    );
    await this.pool.query(`INSERT INTO memberships (channel_id, user_id, role) SELECT unnest($1::uuid[]), $2, 'owner'`, [rows.map((r) => r.id), owner.id]);
    return rows.map((r) => r.id);
  }

  /** Memberships as the hub stores an added member's: `users[i]` joins `channelIds[i]`, in one statement. */
  async members(channelIds: string[], users: BenchUser[]): Promise<void> {
    await this.pool.query(`INSERT INTO memberships (channel_id, user_id, role) SELECT unnest($1::uuid[]), unnest($2::uuid[]), 'member'`, [channelIds, users.map((u) => u.id)]);
  }

  /** `n` stored messages of ~`bytes` bytes each, seq 1..n, as the hub would have stored them. */
  async messages(channelId: string, author: BenchUser, n: number, bytes: number): Promise<void> {
    const pad = 'x'.repeat(Math.max(0, bytes - 40));
    await this.pool.query(
      `WITH ch AS (UPDATE channels SET last_seq = last_seq + $3 WHERE id = $1 RETURNING last_seq - $3 AS base)
       INSERT INTO messages (id, channel_id, seq, author_id, body)
       SELECT gen_random_uuid(), $1, ch.base + i, $2, jsonb_build_object('t', 0, 's', 'seeded', 'n', i, 'p', $4::text)
       FROM ch, generate_series(1, $3::int) AS i`,
      [channelId, author.id, n, pad],
    );
  }

  async lastSeq(channelId: string): Promise<number> {
    const { rows } = await this.pool.query<{ last_seq: string }>('SELECT last_seq FROM channels WHERE id = $1', [channelId]);
    return Number(rows[0]?.last_seq ?? 0);
  }

  async serverVersion(): Promise<string> {
    const { rows } = await this.pool.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return rows[0].v;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
