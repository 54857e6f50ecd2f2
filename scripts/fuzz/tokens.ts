import { SignJWT } from 'jose';
import { AUDIENCE, ISSUER } from '../../src/auth/tokens.js';

// Tokens the hub must refuse, minted the way src/auth/tokens.ts signs real
// ones so that exactly one property differs. Shared by the fuzzer and the
// authorization matrix.

export interface MintOptions {
  sub: string;
  ver?: number;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  issuer?: string;
  audience?: string;
}

export function mintToken(secret: string, o: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ver: o.ver ?? 0 })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(o.issuer ?? ISSUER)
    .setAudience(o.audience ?? AUDIENCE)
    .setSubject(o.sub)
    .setIssuedAt(now - 120)
    .setExpirationTime(now + (o.expiresIn ?? 3600))
    .sign(new TextEncoder().encode(secret));
}

/** Right claims, but signed with a secret the hub does not have. */
export const forgedToken = (sub: string, ver = 0) => mintToken('not-the-hub-secret-'.padEnd(48, 'f'), { sub, ver });

/** Signed with the hub's secret, expired a minute ago. */
export const expiredToken = (secret: string, sub: string, ver = 0) => mintToken(secret, { sub, ver, expiresIn: -60 });

/** `alg: none`: an unsigned token with the right claims. */
export function unsignedToken(sub: string): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub, ver: 0, iss: ISSUER, aud: AUDIENCE, exp: now + 3600 })}.`;
}
