import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';

/** No inline script or style, no other origin: the pages load only what the hub serves. */
export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/** Where `npm run build` puts the pages: dist/web, beside the running code (dist/src/web/…). */
export const defaultWebDir = () => fileURLToPath(new URL('../../web', import.meta.url));

/**
 * The chat page at `/`, the cluster view at `/cluster`, their bundles under
 * `/assets/`, from the built directory. Anything else falls through to the
 * API (and its 404). Without a build, nothing is served here.
 */
export function webPages(dir: string) {
  const router = express.Router();
  if (!existsSync(path.join(dir, 'index.html'))) return router;
  const secure = (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    next();
  };
  const page = (file: string) => (_req: Request, res: Response) => res.sendFile(path.join(dir, file), { headers: { 'Cache-Control': 'no-cache' } });
  router.get('/', secure, page('index.html'));
  router.get('/cluster', secure, page('cluster.html'));
  // Bundles change with every build; the pages revalidate them (ETag).
  router.use('/assets', secure, express.static(path.join(dir, 'assets'), { fallthrough: true, index: false, cacheControl: true, maxAge: 0 }));
  return router;
}
