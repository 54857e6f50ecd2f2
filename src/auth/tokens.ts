import { SignJWT, jwtVerify } from 'jose';

export interface TokenClaims {
  sub: string;
  exp: number;
  /** The user's token version when it was signed: a later version (password change, logout everywhere) refuses it. */
  ver: number;
}

/** Who signs and for whom: a token of another service sharing the secret is refused. */
export const ISSUER = 'crosswire';
export const AUDIENCE = 'crosswire-clients';

/** Verified tokens kept, at most, so a client's every request does not pay WebCrypto again. */
const VERIFIED_MAX = 10_000;

/**
 * HS256 only: `algorithms` pins it, so `none` and RS/HS confusion are refused;
 * issuer and audience are checked.
 * A signature, once verified, stays valid: verified tokens are remembered
 * (bounded) and only their expiry is checked again. A caller that shows a
 * token once (a socket's handshake) verifies without remembering: a socket
 * has no use for its token after the handshake, and ~300 bytes per idle
 * connection would be kept for nothing.
 */
export class TokenSigner {
  private readonly key: Uint8Array;
  private readonly verified = new Map<string, TokenClaims>();

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(userId: string, version: number): Promise<string> {
    return new SignJWT({ ver: version })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  /** Tokens remembered now. */
  get remembered(): number {
    return this.verified.size;
  }

  /** Returns the claims, or null for a missing, forged, expired or malformed token. */
  async verify(token: unknown, remember = true): Promise<TokenClaims | null> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return null;
    const known = this.verified.get(token);
    if (known) return known.exp > Date.now() / 1000 ? known : null;
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
      if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number' || !Number.isInteger(payload.ver)) return null;
      const claims = { sub: payload.sub, exp: payload.exp, ver: payload.ver as number };
      if (!remember) return claims;
      if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, claims);
      return claims;
    } catch {
      return null;
    }
  }
}

export const TOKEN_SIGNER = Symbol('TOKEN_SIGNER');
