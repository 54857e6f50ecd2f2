import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';

// Debian's chromium (scripts/test.sh installs it): Playwright's own browser
// download is not reachable here (the CI machines reach only the npm registry
// and Debian's packages, so `npx playwright install` fails).
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots of the final states, kept after the run (.data/ is not committed). */
export const ARTIFACTS = path.resolve('.data', 'artifacts', 'browser');

/** The tests drive the built pages: a bundle older than its sources is a forgotten `npm run build`. */
export function assertWebBuildFresh(): void {
  const built = statSync(path.resolve('dist', 'web', 'assets', 'app.js'), { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) throw new Error('dist/web is missing: run `npm run build` first');
  const sources = ['web', 'client'].flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => /\.(ts|html|css)$/.test(f) && !f.endsWith('.spec.ts'))
      .map((f) => path.join(dir, f)),
  );
  const newer = sources.filter((f) => statSync(f).mtimeMs > built);
  if (newer.length > 0) throw new Error(`dist/web is older than ${newer.join(', ')}: run \`npm run build\` (or \`npm run build:web\`)`);
}

export function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      // Chromium's sandbox refuses to run as root.
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      // The network here is closed: no update checks, sync or first-run fetches to be refused.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-gpu',
      // Containers often have a tiny /dev/shm; Chromium then crashes under load.
      '--disable-dev-shm-usage',
    ],
  });
}

/** What a page did wrong: uncaught exceptions, and anything the CSP refused. */
export function watchProblems(page: Page, who: string): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`${who}: uncaught ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(m.text())) problems.push(`${who}: ${m.text()}`);
  });
  return problems;
}

export const screenshotPath = (name: string) => path.join(ARTIFACTS, `${name}.png`);
