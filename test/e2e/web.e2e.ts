import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, hubForFile, rawRequest, registerUser } from './support/hub.js';

const ADMIN = 'e2e-admin-token-'.padEnd(40, 'a');
// A stand-in for `npm run build`'s dist/web, so this tier does not depend on the bundle.
const webDir = mkdtempSync(join(tmpdir(), 'crosswire-web-'));
mkdirSync(join(webDir, 'assets'));
writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>chat</title><script type="module" src="/assets/app.js"></script>');
writeFileSync(join(webDir, 'cluster.html'), '<!doctype html><title>cluster</title>');
writeFileSync(join(webDir, 'assets', 'app.js'), 'export {};');

describe('the pages and the cluster view’s API', () => {
  const ctx = hubForFile({ ADMIN_TOKEN: ADMIN, WEB_DIR: webDir });
  afterAll(() => rmSync(webDir, { recursive: true, force: true }));

  it('serves the chat page at /, the cluster view at /cluster and their bundles, under a strict CSP', async () => {
    for (const [path, type] of [
      ['/', 'text/html'],
      ['/cluster', 'text/html'],
      ['/assets/app.js', 'javascript'],
    ] as const) {
      const res = await rawRequest(ctx.hub.url, 'GET', path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.headers.get('content-type')).toContain(type);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await rawRequest(ctx.hub.url, 'GET', '/assets/nope.js')).body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
  });

  it('GET /api/cluster needs the admin token, and shows this replica with its sockets, Redis and Postgres', async () => {
    const get = (auth?: string) => rawRequest(ctx.hub.url, 'GET', '/api/cluster', { headers: auth ? { authorization: auth } : {} });
    expect((await get()).body).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
    expect((await get(`Bearer ${ADMIN}x`)).status).toBe(401);
    const user = await registerUser(ctx.call, 'viewer');
    expect((await get(`Bearer ${user.token}`)).status).toBe(401); // a user's JWT is not the admin token
    const s = await connect(ctx.hub.url, user.token);
    try {
      const res = await get(`Bearer ${ADMIN}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body).toEqual({
        servedBy: 'e2e-1',
        at: expect.any(String),
        redis: 'disabled',
        postgres: 'ok',
        replicas: [{ id: 'e2e-1', status: 'ok', sockets: expect.any(Number), deliveriesPerS: expect.any(Number), publishP99Ms: null, lastSeen: expect.any(String), ageMs: expect.any(Number) }],
      });
      expect(res.body.replicas[0].sockets).toBeGreaterThanOrEqual(1);
    } finally {
      s.close();
    }
  });
});

describe('a hub without an admin token', () => {
  const ctx = hubForFile();
  it('has no cluster view: /api/cluster is 404', async () => {
    expect((await rawRequest(ctx.hub.url, 'GET', '/api/cluster', { headers: { authorization: 'Bearer anything' } })).status).toBe(404);
  });
});
