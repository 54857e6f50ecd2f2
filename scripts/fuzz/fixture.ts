import { randomUUID } from 'node:crypto';
import { expiredToken, forgedToken, mintToken, unsignedToken } from './tokens.js';

// The users, channels and tokens the fuzzer's requests point at, so that
// hostile input also reaches the code behind authentication and access
// checks. A generated request may legitimately change them (a valid DELETE,
// a logout everywhere): heal() puts them back before the next case.

export interface FuzzUser {
  id: string;
  username: string;
  password: string;
  token: string;
}

export const USER_ROLES = ['owner', 'member', 'outsider'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Tokens that must never authenticate anybody. */
export const BAD_TOKENS = ['garbage', 'forged', 'expired', 'revoked', 'ghost', 'unsigned', 'otherIssuer', 'huge'] as const;
export type TokenKind = 'none' | UserRole | (typeof BAD_TOKENS)[number];
export const TOKEN_KINDS: TokenKind[] = ['none', ...USER_ROLES, ...BAD_TOKENS];

/** Names of things a generated id or username may point at, resolved when the case runs. */
export const REFS = ['pub', 'priv', 'unknown', 'owner', 'member', 'outsider'] as const;
export type RefName = (typeof REFS)[number];

const PASSWORD = 'password123';

interface ChannelBody {
  id: string;
  name: string;
  visibility: string;
}

/** The answer's JSON body, typed as the caller expects it on success (check `status` first). */
async function call<T = unknown>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export class Fixture {
  readonly users = {} as Record<UserRole, FuzzUser>;
  readonly channels = { pub: '', priv: '' };
  private readonly names = { pub: '', priv: '' };
  private readonly bad = {} as Record<(typeof BAD_TOKENS)[number], string>;
  private readonly tag = `${process.pid % 10_000}${Date.now() % 100_000}`;
  private generation = 0;

  private constructor(
    private readonly base: string,
    private readonly secret: string,
  ) {}

  static async create(base: string, secret: string): Promise<Fixture> {
    const f = new Fixture(base, secret);
    for (const role of USER_ROLES) f.users[role] = await f.register(role);
    const revoked = await f.register('revoked');
    const out = await call(base, 'POST', '/api/auth/logout-all', undefined, revoked.token);
    if (out.status !== 204) throw new Error(`fixture: logout-all answered ${out.status}`);
    const owner = f.users.owner.id;
    Object.assign(f.bad, {
      garbage: 'not.a.jwt',
      forged: await forgedToken(owner),
      expired: await expiredToken(secret, owner),
      revoked: revoked.token,
      ghost: await mintToken(secret, { sub: randomUUID() }),
      unsigned: unsignedToken(owner),
      otherIssuer: await mintToken(secret, { sub: owner, issuer: 'someone-else' }),
      huge: 'a'.repeat(4097),
    });
    await f.heal();
    return f;
  }

  private async register(role: string): Promise<FuzzUser> {
    const username = `fz${role.slice(0, 3)}${this.tag}`;
    const res = await call<{ user: { id: string }; token: string }>(this.base, 'POST', '/api/auth/register', { username, password: PASSWORD });
    if (res.status !== 201) throw new Error(`fixture: register ${username}: ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.user.id, username, password: PASSWORD, token: res.body.token };
  }

  token(kind: TokenKind): string | undefined {
    if (kind === 'none') return undefined;
    if (kind === 'owner' || kind === 'member' || kind === 'outsider') return this.users[kind].token;
    return this.bad[kind];
  }

  ref(name: RefName): string {
    if (name === 'pub' || name === 'priv') return this.channels[name];
    if (name === 'unknown') return '3f1d2c4b-5a69-4786-9a0b-1c2d3e4f5a6b';
    return this.users[name].id;
  }

  /** After a successful password change the fuzzer tells the fixture the user's new secret. */
  passwordChanged(role: UserRole, password: string, token: string): void {
    this.users[role] = { ...this.users[role], password, token };
  }

  /**
   * Back to the starting shape: every user signed in with a working token,
   * a public and a private channel of the owner, the member (and only the
   * member) in the private one. Idempotent; a few requests when nothing changed.
   */
  async heal(): Promise<void> {
    for (const role of USER_ROLES) {
      const u = this.users[role];
      if ((await call(this.base, 'GET', '/api/me', undefined, u.token)).status === 200) continue;
      const res = await call<{ token: string }>(this.base, 'POST', '/api/auth/login', { username: u.username, password: u.password });
      if (res.status !== 200) throw new Error(`fixture: cannot sign ${role} in again: ${res.status}`);
      u.token = res.body.token;
    }
    const owner = this.users.owner.token;
    for (const kind of ['pub', 'priv'] as const) {
      const visibility = kind === 'pub' ? 'public' : 'private';
      const id = this.channels[kind];
      const got = id ? await call<ChannelBody | undefined>(this.base, 'GET', `/api/channels/${id}`, undefined, owner) : { status: 404, body: undefined };
      if (got.status === 404) {
        this.names[kind] = `fz-${kind}-${this.tag}-${++this.generation}`;
        const made = await call<ChannelBody>(this.base, 'POST', '/api/channels', { name: this.names[kind], visibility }, owner);
        if (made.status !== 201) throw new Error(`fixture: create ${kind}: ${made.status} ${JSON.stringify(made.body)}`);
        this.channels[kind] = made.body.id;
        for (let i = 0; i < 3; i++) await call(this.base, 'POST', `/api/channels/${made.body.id}/messages`, { body: { n: i } }, owner);
      } else if (got.body?.name !== this.names[kind] || got.body?.visibility !== visibility) {
        await call(this.base, 'PATCH', `/api/channels/${id}`, { name: this.names[kind], visibility }, owner);
      }
    }
    const priv = this.channels.priv;
    await call(this.base, 'POST', `/api/channels/${priv}/members`, { username: this.users.member.username }, owner);
    await call(this.base, 'DELETE', `/api/channels/${priv}/members/${this.users.outsider.id}`, undefined, owner);
  }
}
