import net from 'node:net';
import { hubForFile, rawRequest } from './support/hub.js';

/** Writes `text` on a fresh TCP connection to the hub and resolves with everything it answers until it closes. */
function tcp(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('end', () => resolve(got));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
  });
}

/** Status, headers (lower-case) and JSON body of a raw HTTP/1.1 answer. */
function parse(raw: string) {
  const [head, body] = raw.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) };
}

const shape = (status: number, code: string) => ({ statusCode: status, error: expect.any(String), code, message: expect.any(String) });

describe('refusals made before any framework, in the error shape with X-Request-Id', () => {
  const ctx = hubForFile();

  it("headers over Node's limit: 431, and a malformed request line: 400", async () => {
    const big = parse(await tcp(ctx.hub.url, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(big).toEqual({ status: 431, headers: expect.objectContaining({ 'x-replica-id': 'e2e-1', 'x-request-id': expect.any(String) }), body: shape(431, 'BAD_REQUEST') });
    const garbage = parse(await tcp(ctx.hub.url, 'NOT A REQUEST\r\n\r\n'));
    expect(garbage).toEqual({ status: 400, headers: expect.objectContaining({ 'x-request-id': expect.any(String) }), body: shape(400, 'BAD_REQUEST') });
  });

  it("engine.io's own refusals (an unknown session, a bad transport) and a refused WebSocket upgrade", async () => {
    const unknown = await rawRequest(ctx.hub.url, 'GET', '/socket.io/?EIO=4&transport=polling&sid=nope', { headers: { 'x-request-id': 'probe-1' } });
    expect({ status: unknown.status, body: unknown.body, id: unknown.headers.get('x-request-id'), replica: unknown.headers.get('x-replica-id') }).toEqual({
      status: 400,
      body: shape(400, 'BAD_REQUEST'),
      id: 'probe-1',
      replica: 'e2e-1',
    });
    const transport = await rawRequest(ctx.hub.url, 'GET', '/socket.io/?EIO=4&transport=carrier-pigeon');
    expect({ status: transport.status, body: transport.body }).toEqual({ status: 400, body: shape(400, 'BAD_REQUEST') });
    const upgrade = parse(
      await tcp(
        ctx.hub.url,
        'GET /socket.io/?EIO=4&transport=websocket&sid=nope HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      ),
    );
    expect(upgrade).toEqual({ status: 400, headers: expect.objectContaining({ 'x-request-id': expect.any(String), 'x-replica-id': 'e2e-1' }), body: shape(400, 'BAD_REQUEST') });
  });

  it("Socket.IO's CORS follows the handshake's origin rule (its own origin only, without CORS_ORIGINS) and carries the ids", async () => {
    const preflight = (origin: string) => rawRequest(ctx.hub.url, 'OPTIONS', '/socket.io/?EIO=4&transport=polling', { headers: { origin, 'access-control-request-method': 'POST' } });
    const own = await preflight(ctx.hub.url);
    expect(own.status).toBeLessThan(300);
    expect(own.headers.get('access-control-allow-origin')).toBe(ctx.hub.url);
    expect(own.headers.get('x-request-id')).toMatch(/.+/);
    expect(own.headers.get('x-replica-id')).toBe('e2e-1');
    const foreign = await preflight('https://evil.example');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });
});
