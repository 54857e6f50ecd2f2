import { jest } from '@jest/globals';
import { type ClientSocket, api, connectSession, registerUser } from '../support/client.js';
import { type Cluster, startCluster, until } from './support/cluster.js';

jest.setTimeout(90_000);

const ADMIN = 'cluster-admin-token-'.padEnd(40, 'k');

describe('the cluster view’s API across replicas', () => {
  let cluster: Cluster;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    cluster = await startCluster(3, { ADMIN_TOKEN: ADMIN });
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await cluster.stop();
  });

  const view = async (url: string) => (await api(url)('GET', '/api/cluster', undefined, ADMIN)).body;
  const byId = (v: any) => Object.fromEntries(v.replicas.map((r: any) => [r.id, r]));

  it('any replica shows every replica with its open sockets; a SIGKILLed one is gone within seconds', async () => {
    const [r1, r2, r3] = cluster.replicas;
    const user = await registerUser(api(r1.url), 'cv');
    for (const [r, n] of [
      [r1, 1],
      [r2, 2],
      [r3, 3],
    ] as const) {
      for (let i = 0; i < n; i++) sockets.push((await connectSession(r.url, user.token)).socket);
    }
    // A replica's own line is read live, the others' from their last report (every second): wait on two views.
    const counted = async (url: string) => {
      const v = byId(await view(url));
      return v.r1?.sockets === 1 && v.r2?.sockets === 2 && v.r3?.sockets === 3;
    };
    await until('every replica to report its sockets', async () => (await counted(r2.url)) && counted(r1.url));
    const v = await view(r1.url);
    expect(v).toMatchObject({ servedBy: 'r1', redis: 'ok', postgres: 'ok' });
    expect(v.replicas.map((r: any) => [r.id, r.status])).toEqual([
      ['r1', 'ok'],
      ['r2', 'ok'],
      ['r3', 'ok'],
    ]);
    for (const r of v.replicas) expect(r.ageMs).toBeLessThan(5_000);

    await r3.kill('SIGKILL');
    await until('r3 to leave the view', async () => !byId(await view(r1.url)).r3, 10_000);
    expect(Object.keys(byId(await view(r2.url))).sort()).toEqual(['r1', 'r2']);
  });
});
