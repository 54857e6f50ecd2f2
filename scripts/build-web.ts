// The web pages (web/) into dist/web, which the hub serves: GET / is
// index.html, GET /cluster cluster.html, GET /assets/<file> the bundles and
// stylesheets. Run by `npm run build` after tsc:
//
//   node dist/scripts/build-web.js [OUT_DIR]     (default dist/web)
//
// One ES-module bundle per page (client/ and socket.io-client included, no
// import map, no inline script: the pages run under a strict CSP).
import { build } from 'esbuild';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isEntry } from './entry.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Page entry points, by the bundle name the html refers to (/assets/<name>.js). */
export const ENTRIES = { app: 'web/main.ts', cluster: 'web/cluster.ts' } as const;

export async function buildWeb(outDir = path.join(ROOT, 'dist', 'web'), srcDir = path.join(ROOT, 'web')): Promise<void> {
  const assets = path.join(outDir, 'assets');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(assets, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, path.join(ROOT, file)])),
    outdir: assets,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // Browsers of the last two years or so; older ones miss nothing the pages need but syntax.
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const files = await readdir(srcDir);
  await Promise.all([
    ...files.filter((f) => f.endsWith('.html')).map((f) => copyFile(path.join(srcDir, f), path.join(outDir, f))),
    ...files.filter((f) => f.endsWith('.css')).map((f) => copyFile(path.join(srcDir, f), path.join(assets, f))),
  ]);
}

if (isEntry(import.meta.url)) {
  const started = Date.now();
  const out = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  buildWeb(out).then(
    () => console.log(`web: built ${path.relative(process.cwd(), out ?? path.join(ROOT, 'dist', 'web')) || '.'} in ${Date.now() - started} ms`),
    (e: Error) => {
      console.error(`web: build failed: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
