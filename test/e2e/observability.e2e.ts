import { type Api, type TestHub, api, connect, emitAck, registerUser, startHub } from './support/hub.js';

describe('health, readiness, metrics, OpenAPI, request ids', () => {
  let hub: TestHub;
  let call: Api;

  beforeAll(async () => {
    hub = await startHub();
    call = api(hub.url);
  });
  afterAll(() => hub.close());

  it('/healthz is 200 and /readyz reports its checks from background state', async () => {
    expect((await call('GET', '/healthz')).status).toBe(200);
    const ready = await call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'disabled', fanout: 'ok', draining: false } });
  });

  it('every response carries X-Replica-Id and a request id (the caller\'s when given)', async () => {
    const res = await fetch(`${hub.url}/healthz`, { headers: { 'x-request-id': 'trace-abc' } });
    expect(res.headers.get('x-replica-id')).toBe('e2e-1');
    expect(res.headers.get('x-request-id')).toBe('trace-abc');
    const other = await fetch(`${hub.url}/api/nope`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(other.headers.get('x-replica-id')).toBe('e2e-1');
    const polling = await fetch(`${hub.url}/socket.io/?EIO=4&transport=polling`);
    expect(polling.status).toBe(200);
    expect(polling.headers.get('x-replica-id')).toBe('e2e-1');
  });

  it('/metrics counts HTTP by route, sockets and events, and a publish-latency histogram', async () => {
    const user = await registerUser(call, 'metrics');
    const channel = await call('POST', '/api/channels', { name: `metrics-${Date.now()}` }, user.token);
    await call('POST', `/api/channels/${channel.body.id}/messages`, { body: 1 }, user.token);
    const socket = await connect(hub.url, user.token);
    await emitAck(socket, 'message:publish', { channelId: channel.body.id, body: 2 });
    await emitAck(socket, 'message:publish', { channelId: 'nope', body: 2 });
    socket.close();
    const res = await call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text: string = res.body;
    expect(text).toMatch(/crosswire_http_requests_total\{method="POST",route="\/api\/channels\/:id\/messages",status="201"\} 1/);
    expect(text).toMatch(/crosswire_publish_duration_seconds_count 2/);
    expect(text).toMatch(/crosswire_socket_connections_total [1-9]/);
    expect(text).toMatch(/crosswire_socket_events_total\{event="message:publish",outcome="ok"\} 1/);
    expect(text).toMatch(/crosswire_socket_events_total\{event="message:publish",outcome="BAD_REQUEST"\} 1/);
    expect(text).toMatch(/process_resident_memory_bytes/);
  });

  it('/api/docs serves Swagger UI and the OpenAPI document covers every route with its schemas', async () => {
    const ui = await fetch(`${hub.url}/api/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
    const doc = (await call('GET', '/api/docs-json')).body;
    const routes = Object.entries(doc.paths).flatMap(([path, ops]: [string, any]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes.sort()).toEqual(
      [
        'POST /api/auth/register', 'POST /api/auth/login', 'POST /api/auth/logout-all', 'POST /api/auth/password', 'GET /api/me',
        'POST /api/channels', 'GET /api/channels', 'GET /api/channels/{id}', 'PATCH /api/channels/{id}', 'DELETE /api/channels/{id}',
        'POST /api/channels/{id}/members', 'DELETE /api/channels/{id}/members/{userId}',
        'GET /api/channels/{id}/messages', 'POST /api/channels/{id}/messages', 'GET /api/channels/{id}/presence',
      ].sort(),
    );
    const register = doc.paths['/api/auth/register'].post;
    expect(register.requestBody.content['application/json'].schema.properties.username.pattern).toBe('^[a-z0-9_.-]+$');
    expect(Object.keys(doc.paths['/api/channels/{id}/messages'].post.responses)).toEqual(expect.arrayContaining(['200', '201', '409', '413']));
  });
});
