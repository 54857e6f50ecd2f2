import pg from 'pg';

// The hub's whole durable state as one comparable string, read straight from
// Postgres: a rejected request or event must leave it as it was.

const DIGEST = `
SELECT
  (SELECT md5(coalesce(string_agg(concat_ws(':', id, username, password_hash, token_version), ',' ORDER BY id), '')) FROM users) AS users,
  (SELECT md5(coalesce(string_agg(concat_ws(':', id, name, visibility, owner_id, last_seq), ',' ORDER BY id), '')) FROM channels) AS channels,
  (SELECT md5(coalesce(string_agg(concat_ws(':', channel_id, user_id, role), ',' ORDER BY channel_id, user_id), '')) FROM memberships) AS memberships,
  -- messages are never edited, only added or deleted with their channel: a count and a sum of their ids' hashes tell
  (SELECT concat_ws(':', count(*), coalesce(sum(hashtext(concat_ws(':', id, channel_id, seq, client_msg_id))), 0)) FROM messages) AS messages`;

export class StateProbe {
  private constructor(private readonly client: pg.Client) {}

  static async open(databaseUrl: string): Promise<StateProbe> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    return new StateProbe(client);
  }

  async digest(): Promise<string> {
    const { rows } = await this.client.query<Record<string, string>>(DIGEST);
    return JSON.stringify(rows[0]);
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
