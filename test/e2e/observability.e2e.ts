import { type Api, type TestHub, api, connect, emitAck, registerUser, startHub } from './support/hub.js';
import { until } from '../support/wait.js';

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

  it("every response carries X-Replica-Id and a request id (the caller's when given)", async () => {
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

  it('/metrics has delivery lag, resumes and their catch-up, presence reaps, slow-consumer cuts and socket buffer sizes, and the ones a single hub can drive move', async () => {
    const metric = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const scrape = async () => (await call('GET', '/metrics')).body as string;
    const before = await scrape();
    // Unlabelled series are there from the start; the labelled ones once they have a value (below).
    for (const name of [
      'crosswire_subscribe_missed_messages_total',
      'crosswire_presence_reaps_total',
      'crosswire_presence_reaped_leaves_total',
      'crosswire_slow_consumer_disconnects_total',
      'crosswire_socket_oversized_packets_total',
      'crosswire_socket_buffer_peak_bytes_count',
      'crosswire_socket_buffer_max_bytes',
      'crosswire_socket_buffers_bytes',
      'crosswire_socket_buffer_highwater_bytes',
    ]) {
      expect({ name, value: metric(before, name) }).toEqual({ name, value: expect.any(Number) });
    }
    const user = await registerUser(call, 'lag');
    const channelId = (await call('POST', '/api/channels', { name: `lag-${Date.now()}` }, user.token)).body.id;
    await call('POST', `/api/channels/${channelId}/messages`, { body: 'before' }, user.token);
    const socket = await connect(hub.url, user.token);
    // A resume: sinceSeq 0 catches up the one stored message in the ack.
    const ack = await emitAck(socket, 'channel:subscribe', { channelId, sinceSeq: 0 });
    expect(ack.missed).toHaveLength(1);
    const live = new Promise((ok) => socket.once('message:created', ok));
    await call('POST', `/api/channels/${channelId}/messages`, { body: 'live' }, user.token);
    await live;
    const closed = new Promise((ok) => socket.once('disconnect', ok));
    socket.close();
    await closed;
    // The server sees the close a moment after the client does.
    let after = '';
    await until(
      'the server to see the socket closed',
      async () => metric((after = await scrape()), 'crosswire_socket_buffer_peak_bytes_count') > metric(before, 'crosswire_socket_buffer_peak_bytes_count'),
    );
    const moved = (series: string) => (metric(after, series) || 0) - (metric(before, series) || 0);
    expect(moved('crosswire_delivery_lag_seconds_count{path="live"}')).toBeGreaterThanOrEqual(1);
    expect(metric(after, 'crosswire_delivery_lag_seconds_sum{path="live"}')).toBeLessThan(60);
    expect(moved('crosswire_subscribe_resumes_total{has_more="false"}')).toBe(1);
    expect(moved('crosswire_subscribe_missed_messages_total')).toBe(1);
    expect(moved('crosswire_socket_buffer_peak_bytes_count')).toBeGreaterThanOrEqual(1);
    expect(moved('crosswire_socket_buffer_peak_bytes_sum')).toBeGreaterThan(0);
    expect(metric(after, 'crosswire_socket_buffer_highwater_bytes')).toBeGreaterThan(0);
    // Without Redis nothing is reaped, and a reading client is never cut.
    expect(metric(after, 'crosswire_presence_reaps_total')).toBe(0);
    expect(metric(after, 'crosswire_slow_consumer_disconnects_total')).toBe(0);
  });

  it('/api/docs serves Swagger UI and the OpenAPI document covers every route with its schemas', async () => {
    const ui = await fetch(`${hub.url}/api/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
    const doc = (await call('GET', '/api/docs-json')).body;
    const routes = Object.entries(doc.paths).flatMap(([path, ops]: [string, any]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes.sort()).toEqual(
      [
        'POST /api/auth/register',
        'POST /api/auth/login',
        'POST /api/auth/logout-all',
        'POST /api/auth/password',
        'GET /api/me',
        'POST /api/channels',
        'GET /api/channels',
        'GET /api/channels/{id}',
        'PATCH /api/channels/{id}',
        'DELETE /api/channels/{id}',
        'POST /api/channels/{id}/members',
        'DELETE /api/channels/{id}/members/{userId}',
        'GET /api/channels/{id}/messages',
        'POST /api/channels/{id}/messages',
        'GET /api/channels/{id}/presence',
      ].sort(),
    );
    const register = doc.paths['/api/auth/register'].post;
    expect(register.requestBody.content['application/json'].schema.properties.username.pattern).toBe('^[a-z0-9_.-]+$');
    expect(Object.keys(doc.paths['/api/channels/{id}/messages'].post.responses)).toEqual(expect.arrayContaining(['200', '201', '409', '413']));
  });
});
