import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/**
 * The client's address: the connection's own, or what a trusted proxy
 * (TRUSTED_PROXIES) says it forwarded for. Anyone else's X-Forwarded-For is
 * ignored, so it cannot be used to dodge a per-address limit.
 */
export function clientIpResolver(trusted: readonly string[] | undefined): (req: IncomingMessage) => string {
  const trust = proxyaddr.compile(trusted ? [...trusted] : []);
  return (req) => proxyaddr(req, trust);
}
