import { io, type Socket } from 'socket.io-client';
import { SOCKET_EVENTS } from './catalog.js';
import { ackProblem, restErrorProblem } from './checks.js';
import { type Fixture, USER_ROLES, type UserRole } from './fixture.js';
import { type Ref, resolveRefs } from './inputs.js';
import { type Answer, type Prepared, type RestCase, prepare, send } from './rest.js';
import type { FuzzReport, FuzzTarget, Violation } from './run.js';
import type { EventCase, HandshakeCase } from './socket.js';
import type { StateProbe } from './state.js';

// One case of each phase: send it, then check the answer and the state.

export interface Runner {
  target: FuzzTarget;
  fixture: Fixture;
  probe: StateProbe;
  report: FuzzReport;
  /** The state digest as the last case left it. */
  state: string;
  lookup: (r: Ref) => string;
  sockets: Map<UserRole, Socket>;
  violation(phase: Violation['phase'], index: number, problem: string, c: unknown): void;
}

/** Over REQUEST_MAX_BYTES (or Node's header limit) the hub may close the connection while the client still writes. */
const MAY_BE_CUT = 65_536;
/** Just under SOCKET_MAX_BYTES (100,000): a bigger frame closes the connection, as documented. */
const FRAME_LIMIT = 99_000;

/** Over Node's 16 KiB limit for the request line and headers: refused (431) before any header is read. */
const oversized = (p: Prepared) => p.path.length > 8_000 || Object.values(p.headers).some((v) => v.length > 8_000);
const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
const isUser = (k: string): k is UserRole => (USER_ROLES as readonly string[]).includes(k);

export async function runRest(r: Runner, c: RestCase, index: number): Promise<void> {
  const p = prepare(c, r.lookup, (k) => r.fixture.token(k));
  bump(r.report.coverage.operations, `${c.op.method} ${c.op.template}`);
  const bad = (problem: string) => r.violation('rest', index, `${p.method} ${p.path.slice(0, 120)}: ${problem}`, c);
  let ans: Answer;
  try {
    ans = await send(r.target.url, p);
  } catch (e) {
    const big = (p.payload?.length ?? 0) > MAY_BE_CUT || oversized(p);
    bump(r.report.outcomes.rest, big ? 'cut' : 'transport error');
    if (!big) bad(`no answer: ${(e as Error).message}`);
    return checkState(r, () => bad('state changed although the request was cut'));
  }
  bump(r.report.outcomes.rest, String(ans.status));
  if (ans.status >= 500) bad(`status ${ans.status}: ${ans.text.slice(0, 200)}`);
  const rid = ans.headers['x-request-id'];
  if (typeof rid !== 'string' || !rid) bad('no X-Request-Id');
  // Headers over Node's limit are refused unparsed (431), so the id in them cannot be known.
  else if (p.echoId !== undefined && rid !== p.echoId && !oversized(p)) bad(`X-Request-Id ${rid} instead of the sane ${p.echoId}`);
  if (!ans.headers['x-replica-id']) bad('no X-Replica-Id');
  if (ans.status >= 400) {
    const problem = restErrorProblem(ans.status, ans.text);
    if (problem) bad(`error shape: ${problem}`);
  }
  const validScheme = /^bearer +$/i.test(c.scheme);
  if (c.op.authenticated && c.twist === 'none' && ans.status < 300 && !(isUser(c.token) && validScheme)) bad(`${ans.status} with token ${c.token} (scheme ${JSON.stringify(c.scheme)})`);
  if (ans.status >= 400) return checkState(r, () => bad(`state changed by a ${ans.status}`));
  if (p.method !== 'GET') {
    if (c.op.template === '/api/auth/password' && isUser(c.token) && ans.status === 200) {
      const sent = JSON.parse(p.payload!.toString()) as { newPassword: string };
      r.fixture.passwordChanged(c.token, sent.newPassword, (JSON.parse(ans.text) as { token: string }).token);
    }
    await r.fixture.heal();
  }
  r.state = await r.probe.digest();
}

/** A rejected case must leave the state as the previous case left it. */
async function checkState(r: Runner, changed: () => void): Promise<void> {
  const now = await r.probe.digest();
  if (now !== r.state) changed();
  r.state = now;
}

async function socketOf(r: Runner, who: UserRole): Promise<Socket> {
  const have = r.sockets.get(who);
  if (have?.connected) return have;
  have?.close();
  const s = io(r.target.url, { auth: { token: r.fixture.token(who) }, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((ok, fail) => {
    s.once('session', () => ok());
    s.once('connect_error', (e) => fail(new Error(`fuzz socket of ${who}: ${e.message}`)));
  });
  r.sockets.set(who, s);
  return s;
}

type Outcome = { ack: unknown } | { dropped: string } | { timeout: true };

/** Emits and waits for the ack, the connection closing, or 10 s, whichever comes first. */
function ask(s: Socket, event: string, args: unknown[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const done = (o: Outcome) => {
      clearTimeout(timer);
      s.off('disconnect', onDrop);
      resolve(o);
    };
    const onDrop = (reason: string) => done({ dropped: reason });
    const timer = setTimeout(() => done({ timeout: true }), 10_000);
    s.once('disconnect', onDrop);
    s.emit(event, ...args, (ack: unknown) => done({ ack }));
  });
}

const SENTINEL = { channelId: '00000000-0000-4000-8000-000000000000' };

/** An unsubscribe that must ack ok: the socket still serves after an event that has no answer of its own. */
async function sentinel(s: Socket, bad: (problem: string) => void): Promise<Outcome> {
  const after = await ask(s, 'channel:unsubscribe', [SENTINEL]);
  if ('ack' in after && !(after.ack as { ok?: boolean } | undefined)?.ok) bad(`the sentinel unsubscribe after it was refused: ${JSON.stringify(after.ack)}`);
  return 'ack' in after ? { ack: undefined } : after;
}

export async function runEvent(r: Runner, c: EventCase, index: number): Promise<void> {
  const spec = SOCKET_EVENTS[c.event as keyof typeof SOCKET_EVENTS] as (typeof SOCKET_EVENTS)[keyof typeof SOCKET_EVENTS] | undefined;
  bump(r.report.coverage.events, spec ? c.event : '(unknown)');
  const bad = (problem: string) => r.violation('event', index, `${c.event}: ${problem}`, c);
  const s = await socketOf(r, c.who);
  const args = c.args.map((a) => resolveRefs(a, r.lookup));
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(args) ?? '');
  } catch {
    size = Infinity;
  }
  let answer: Outcome;
  if (size === Infinity) {
    // Too deep for the client's own encoder: written as a raw Socket.IO EVENT packet (no ack id), as a hand-made client could.
    const frame = `2[${JSON.stringify(c.event)},${'['.repeat(5000)}1${']'.repeat(5000)}]`;
    size = frame.length;
    (s.io.engine as unknown as { write(m: string): void }).write(frame);
    answer = await sentinel(s, bad);
  } else if (spec?.acked && (c.withAck || c.event === 'message:publish')) {
    // A publish is always asked with an ack: without one, nothing tells when (or whether) it was stored, and its
    // state change would be blamed on a later case. The hub handles both the same way (CONTRACT §5).
    answer = await ask(s, c.event, args);
  } else {
    // Unacknowledged (typing, unknown events, or no callback): any answer is a violation; an acked sentinel after it shows the socket still serves.
    if (c.withAck) s.emit(c.event, ...args, () => bad('answered an event that is never acknowledged'));
    else s.emit(c.event, ...args);
    answer = await sentinel(s, bad);
  }
  if ('timeout' in answer) bad('no answer within 10 s');
  if ('dropped' in answer) {
    bump(r.report.outcomes.event, 'closed');
    if (size <= FRAME_LIMIT) bad(`connection closed (${answer.dropped}) by a ${size}-byte frame`);
  } else if ('ack' in answer && answer.ack !== undefined) {
    const ack = answer.ack as { ok: boolean; error?: { code: string } };
    bump(r.report.outcomes.event, ack.ok ? 'ok' : (ack.error?.code ?? '?'));
    const problem = ackProblem(ack, spec?.codes ?? []);
    if (problem) bad(problem);
    if (ack.ok && c.event === 'message:publish') return void (r.state = await r.probe.digest());
  } else bump(r.report.outcomes.event, 'no ack');
  await checkState(r, () => bad('state changed without an ok publish'));
}

export async function runHandshake(r: Runner, c: HandshakeCase, index: number): Promise<void> {
  const auth = c.auth.kind === 'token' ? { token: r.fixture.token(c.auth.token) } : (c.auth.value as object);
  const s = io(r.target.url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  const outcome = await new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve('(no answer within 10 s)'), 10_000);
    s.once('session', () => (clearTimeout(timer), resolve('session')));
    s.once('connect_error', (e) => (clearTimeout(timer), resolve(e.message)));
    // socket.io-client closes the manager just before it emits a refused handshake's connect_error, in the same tick.
    s.io.once('close', () => setImmediate(() => (clearTimeout(timer), resolve('(connection closed)'))));
  });
  s.close();
  bump(r.report.outcomes.handshake, outcome);
  // An auth payload over SOCKET_MAX_BYTES closes the connection, as any frame that big does.
  const expected = c.auth.kind === 'token' ? (isUser(c.auth.token) ? 'session' : 'unauthorized') : Buffer.byteLength(JSON.stringify(auth)) > FRAME_LIMIT ? '(connection closed)' : 'unauthorized';
  if (outcome !== expected) r.violation('handshake', index, `${outcome} instead of ${expected}`, c);
  await checkState(r, () => r.violation('handshake', index, 'state changed by a handshake', c));
}
