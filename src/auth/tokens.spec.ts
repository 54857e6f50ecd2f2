import { jest } from '@jest/globals';
import { SignJWT } from 'jose';
import { AUDIENCE, ISSUER, TokenSigner } from './tokens.js';

const secret = 'a'.repeat(40);

describe('TokenSigner', () => {
  const signer = new TokenSigner(secret, 60);

  it('round-trips a user id with an expiry', async () => {
    const token = await signer.sign('u1', 3);
    const claims = await signer.verify(token);
    expect(claims?.sub).toBe('u1');
    expect(claims?.ver).toBe(3);
    expect(claims!.exp - Date.now() / 1000).toBeGreaterThan(55);
  });

  it('a verified token is remembered, and refused once it expires', async () => {
    const key = new TextEncoder().encode(secret);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await new SignJWT({ ver: 0 }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('u2').setExpirationTime(exp).sign(key);
    expect(await signer.verify(token)).toEqual({ sub: 'u2', exp, ver: 0 });
    jest.useFakeTimers({ now: exp * 1000 + 1, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      expect(await signer.verify(token)).toBeNull();
    } finally {
      jest.useRealTimers();
    }
  });

  it('a token shown once (a socket handshake) is verified but not remembered; shown to the other door, it is', async () => {
    const fresh = new TokenSigner(secret, 60);
    const token = await fresh.sign('u3', 1);
    expect(await fresh.verify(token, false)).toMatchObject({ sub: 'u3', ver: 1 });
    expect(fresh.remembered).toBe(0);
    expect(await fresh.verify(token)).toMatchObject({ sub: 'u3', ver: 1 });
    expect(fresh.remembered).toBe(1);
  });

  it('refuses a token signed with another secret', async () => {
    const other = new TokenSigner('b'.repeat(40), 60);
    expect(await signer.verify(await other.sign('u1', 0))).toBeNull();
  });

  it('refuses an expired token', async () => {
    const key = new TextEncoder().encode(secret);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(key);
    expect(await signer.verify(token)).toBeNull();
  });

  it('refuses a token of another issuer or audience, or without a version', async () => {
    const key = new TextEncoder().encode(secret);
    const base = () => new SignJWT({ ver: 0 }).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').setExpirationTime('1h');
    for (const t of [
      await base().setIssuer('someone-else').setAudience(AUDIENCE).sign(key),
      await base().setIssuer(ISSUER).setAudience('another-app').sign(key),
      await base().sign(key),
      await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('u1').setExpirationTime('1h').sign(key),
    ]) {
      expect(await signer.verify(t)).toBeNull();
    }
  });

  it('refuses alg none, HS512, a token without expiry, and garbage', async () => {
    const key = new TextEncoder().encode(secret);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"u1","exp":9999999999}').toString('base64url')}.`;
    const hs512 = await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setSubject('u1').setExpirationTime('1h').sign(key);
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').sign(key);
    for (const t of [none, hs512, noExp, 'garbage', '', undefined, 42]) {
      expect(await signer.verify(t)).toBeNull();
    }
  });
});
