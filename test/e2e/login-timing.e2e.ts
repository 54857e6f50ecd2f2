import { describe, expect, it, jest } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { hubForFile, metricValue, registerUser } from './support/hub.js';

// Username discovery through timing (SECURITY.md): a login for an unknown
// username must cost the same scrypt verification as a wrong password. The
// first test counts the derivations, so it holds on any machine; the second
// measures, coarsely enough for a shared 2-core CI machine: without the dummy
// verification an unknown username answers ~20x faster, far below the bound.
// Rate limits are off in test hubs, so no backoff slows either kind.

jest.setTimeout(60_000);

const t = hubForFile();
let n = 0;
const unknownName = () => `nobody${process.pid % 1000}_${++n}`;

const derivations = async () => ({
  verify: await metricValue(t.hub.url, 'crosswire_password_work_total', { op: 'verify' }),
  hash: await metricValue(t.hub.url, 'crosswire_password_work_total', { op: 'hash' }),
});

/** The scrypt work `logins` caused, and the answers they got. */
async function workOf(logins: Array<() => Promise<{ status: number; body: unknown }>>) {
  const before = await derivations();
  const answers = [];
  for (const login of logins) answers.push(await login());
  const after = await derivations();
  return { work: { verify: after.verify - before.verify, hash: after.hash - before.hash }, answers };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

describe('login: an unknown username costs the same password work as a wrong password', () => {
  const login = (username: string, password: string) => () => t.call('POST', '/api/auth/login', { username, password });

  it('N logins with unknown usernames run exactly N scrypt verifications, as many as N wrong passwords of a known user, and get the same 401', async () => {
    const known = await registerUser(t.call, 'timing');
    // The dummy hash is made at the first unknown login; from then on each login is one verification.
    expect((await login(unknownName(), 'password123')()).status).toBe(401);
    const N = 5;
    const unknown = await workOf(Array.from({ length: N }, () => login(unknownName(), 'password123')));
    const wrong = await workOf(Array.from({ length: N }, () => login(known.username, 'wrong-password')));
    expect(unknown.work).toEqual({ verify: N, hash: 0 });
    expect(wrong.work).toEqual(unknown.work);
    expect(new Set([...unknown.answers, ...wrong.answers].map((a) => JSON.stringify([a.status, a.body]))).size).toBe(1);
    expect(unknown.answers[0]).toEqual({ status: 401, body: expect.objectContaining({ code: 'UNAUTHORIZED', message: 'wrong username or password' }), headers: expect.anything() });
    // The right password is one verification too, so a success is no cheaper or dearer to tell apart.
    expect((await workOf([login(known.username, 'password123')])).work).toEqual({ verify: 1, hash: 0 });
  });

  it('the median latency of unknown-username logins is at least half that of wrong-password logins (interleaved)', async () => {
    const known = await registerUser(t.call, 'timing');
    const timed = async (attempt: () => Promise<{ status: number }>) => {
      const start = performance.now();
      const { status } = await attempt();
      const ms = performance.now() - start;
      expect(status).toBe(401);
      return ms;
    };
    const unknownMs: number[] = [];
    const wrongMs: number[] = [];
    await timed(login(unknownName(), 'password123'));
    await timed(login(known.username, 'wrong-password'));
    // Alternating which kind goes first cancels drift and any cost of following the other kind.
    for (let i = 0; i < 20; i++) {
      const pair = [() => timed(login(unknownName(), 'password123')).then((ms) => unknownMs.push(ms)), () => timed(login(known.username, 'wrong-password')).then((ms) => wrongMs.push(ms))];
      if (i % 2) pair.reverse();
      for (const step of pair) await step();
    }
    const medians = { unknownMs: Math.round(median(unknownMs) * 10) / 10, wrongPasswordMs: Math.round(median(wrongMs) * 10) / 10 };
    console.log(`login medians over 20 interleaved pairs: ${JSON.stringify(medians)}`);
    expect(medians.unknownMs).toBeGreaterThanOrEqual(0.5 * medians.wrongPasswordMs);
  });
});
