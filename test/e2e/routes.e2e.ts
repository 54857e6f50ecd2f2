import { type Api, type TestHub, api, registerUser, startHub } from './support/hub.js';
import { everyRoute } from './support/routes.js';

describe('every authenticated route refuses a request without a valid token', () => {
  let hub: TestHub;
  let call: Api;
  let channelId: string;
  let userId: string;

  beforeAll(async () => {
    hub = await startHub();
    call = api(hub.url);
    const owner = await registerUser(call, 'routes');
    userId = owner.id;
    channelId = (await call('POST', '/api/channels', { name: `routes-${Date.now()}` }, owner.token)).body.id;
  });
  afterAll(() => hub.close());

  it.each(['none', 'garbage'])('401 UNAUTHORIZED on every route with token %s, and nothing changes', async (kind) => {
    const token = kind === 'none' ? undefined : 'not.a.jwt';
    for (const [method, path, body] of everyRoute(channelId, userId)) {
      const res = await call(method, path, body, token);
      expect({ route: `${method} ${path}`, status: res.status, code: res.body?.code }).toEqual({ route: `${method} ${path}`, status: 401, code: 'UNAUTHORIZED' });
    }
    const owner = await registerUser(call, 'check');
    const still = await call('GET', `/api/channels/${channelId}/messages`, undefined, owner.token);
    expect(still.status).toBe(200);
    expect(still.body.items).toEqual([]);
  });
});
