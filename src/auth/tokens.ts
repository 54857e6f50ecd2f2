import { SignJWT, jwtVerify } from 'jose';

export interface TokenClaims {
  sub: string;
  exp: number;
}

/** HS256 only: `algorithms` pins it, so `none` and RS/HS confusion are refused. */
export class TokenSigner {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(userId: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  /** Returns the claims, or null for a missing, forged, expired or malformed token. */
  async verify(token: unknown): Promise<TokenClaims | null> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return null;
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return null;
      return { sub: payload.sub, exp: payload.exp };
    } catch {
      return null;
    }
  }
}

export const TOKEN_SIGNER = Symbol('TOKEN_SIGNER');
