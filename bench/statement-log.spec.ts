import { describe, expect, it } from '@jest/globals';
import { parseStatements, perPass, type Statement } from './statement-log.js';

// As the embedded Postgres' helper writes its log: one JSON record per line of Postgres' own.
const record = (line: string) => JSON.stringify({ time: '2026-12-07T18:46:26.330Z', msg: 'postgres', line });
const HEADS = 'SELECT id, last_seq::text AS last_seq, visibility::text AS visibility FROM channels WHERE id = ANY($1::uuid[])';

describe('parseStatements', () => {
  it('reads simple and extended-protocol statements with their application, and nothing else', () => {
    const text = [
      record('2026-12-07 18:46:24.822 UTC [13302] app=crosswire-readiness LOG:  statement: SELECT 1'),
      record(`2026-12-07 18:46:26.329 UTC [13329] app= LOG:  execute <unnamed>: ${HEADS}`),
      record("2026-12-07 18:46:26.329 UTC [13329] app= DETAIL:  Parameters: $1 = '{6c24d591}'"),
      record('2026-12-07 18:46:26.400 UTC [13321] app= LOG:  execute memberships-among: SELECT m.channel_id, m.user_id FROM memberships m'),
      record('               JOIN unnest($1::uuid[], $2::uuid[]) AS p(channel_id, user_id) USING (channel_id, user_id)'),
      record('2026-12-07 18:46:26.500 UTC [13000] app= LOG:  checkpoint starting: time'),
      '{"time":"2026-12-07T18:46:26.330Z","msg":"postgres","line":"2026-12-07 18:46:27 UTC [1] app= LOG:  statement: SEL',
    ].join('\n');
    expect(parseStatements(text)).toEqual([
      { app: 'crosswire-readiness', sql: 'SELECT 1' },
      { app: '', sql: HEADS },
      { app: '', sql: 'SELECT m.channel_id, m.user_id FROM memberships m' },
    ]);
  });
});

describe('perPass', () => {
  const s = (sql: string): Statement => ({ app: '', sql });
  const isStart = (x: Statement) => x.sql === 'heads';

  it('counts only whole passes: from the first start to the last, which begins an uncounted pass', () => {
    const log = [s('members 9'), s('tokens'), s('heads'), s('members 1'), s('members 2'), s('tokens'), s('heads'), s('members 1'), s('members 2'), s('tokens'), s('heads'), s('members 1')];
    expect(perPass(log, isStart)).toEqual({ passes: 2, perPass: 4, bySql: { heads: 1, 'members 1': 1, 'members 2': 1, tokens: 1 } });
  });

  it('averages passes of different sizes, by statement too', () => {
    const log = [s('heads'), s('tokens'), s('heads'), s('tokens'), s('tokens'), s('tokens'), s('heads')];
    expect(perPass(log, isStart)).toEqual({ passes: 2, perPass: 3, bySql: { heads: 1, tokens: 2 } });
  });

  it('is null without two starts', () => {
    expect(perPass([s('tokens'), s('heads'), s('tokens')], isStart)).toBeNull();
  });
});
