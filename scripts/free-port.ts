import net from 'node:net';

// Ephemeral ports on these machines are 32768–60999 (net.ipv4.ip_local_port_range): a listener
// on a port the OS picked from that range can collide with a client socket
// opened a moment later. So listeners take a random port below it, checked
// free by binding it. Shared by the test tiers, `npm run cluster` and the bench.
const LOW = 20_000;
const HIGH = 32_767;

function tryListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A loopback port below the ephemeral range that was free a moment ago. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (await tryListen(port, host)) return port;
  }
  throw new Error(`no free port found in ${LOW}..${HIGH} on ${host}`);
}
