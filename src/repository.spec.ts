import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';

// The repository stands alone: no tracked file cites a file outside it (the
// seed's specification and claims live in docs/SPEC.md and docs/CLAIMS.md),
// and the relative links of the documents resolve to files of the repository.

const REPO = resolve('.');
const THIS = 'src/repository.spec.ts'; // it names the patterns it looks for

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f && f !== 'package-lock.json' && !f.split('/').includes('node_modules'));
const trackedSet = new Set(tracked);
const trackedDirs = new Set(
  tracked.flatMap((f) =>
    f
      .split('/')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
  ),
);

/** The text of a tracked file, or null for a binary one (or one deleted in the work tree). */
function text(file: string): string | null {
  const path = join(REPO, file);
  if (!existsSync(path)) return null;
  const buf = readFileSync(path);
  return buf.includes(0) ? null : buf.toString('utf8');
}

/** Where a file outside the repository is cited: the workplace's folder, its notes. */
const OUTSIDE: Array<[string, RegExp]> = [
  ['an absolute /work/ path', /\/work\//],
  ['the sibling folder ../shared', /\.\.\/shared\b/],
  ['shared/SPEC.md', /\bshared\/SPEC\.md/],
  ['shared/CLAIMS.md', /\bshared\/CLAIMS\.md/],
  ['FACTS(.md)', /\bFACTS\b/],
  ['DESIGN.md', /\bDESIGN\.md\b/],
  ['STYLE.md', /\bSTYLE\.md\b/],
];

/** Outside docs/, a bare SPEC.md or CLAIMS.md means the sibling folder's copy: name docs/ instead. */
const BARE_OUTSIDE_DOCS = /(?<![\w/.-])(SPEC|CLAIMS)\.md\b/;

/** docs/….md named anywhere (a comment, a message, a document) must be a tracked file. */
const DOCS_PATH = /(?<![\w/.-])docs\/[\w./-]*\.md\b/g;

const MARKDOWN = tracked.filter((f) => f === 'README.md' || f === 'SECURITY.md' || /^docs\/[^/]+\.md$/.test(f));

/** Relative link targets of a markdown text, outside code spans and fenced blocks. */
function links(md: string): string[] {
  const prose = md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
  const out: string[] = [];
  for (const m of prose.matchAll(/!?\[[^\]\n]*\]\(\s*(<[^>\n]*>|[^\s)]+)(?:\s+"[^"\n]*")?\s*\)/g)) out.push(m[1].replace(/^<|>$/g, ''));
  for (const m of prose.matchAll(/^\s{0,3}\[[^\]\n]+\]:\s*(\S+)/gm)) out.push(m[1].replace(/^<|>$/g, ''));
  return out.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#'));
}

describe('the repository stands alone', () => {
  it('lists its files (git ls-files)', () => {
    expect(tracked).toContain('package.json');
  });

  it('no tracked file cites a file outside the repository', () => {
    const found: string[] = [];
    for (const file of tracked) {
      if (file === THIS) continue;
      const body = text(file);
      if (body === null) continue;
      body.split('\n').forEach((line, i) => {
        const at = `${file}:${i + 1}`;
        for (const [what, re] of OUTSIDE) if (re.test(line)) found.push(`${at}: ${what}: ${line.trim()}`);
        if (!file.startsWith('docs/') && BARE_OUTSIDE_DOCS.test(line)) found.push(`${at}: SPEC.md/CLAIMS.md without docs/: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });

  it('every docs/….md a file names exists in the repository', () => {
    const missing: string[] = [];
    for (const file of tracked) {
      if (file === THIS) continue;
      const body = text(file);
      if (body === null) continue;
      for (const m of body.matchAll(DOCS_PATH)) {
        if (!trackedSet.has(m[0])) missing.push(`${file}: ${m[0]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the seed specification and claims are in docs/', () => {
    expect(trackedSet.has('docs/SPEC.md')).toBe(true);
    expect(trackedSet.has('docs/CLAIMS.md')).toBe(true);
  });

  it(`the relative links of ${MARKDOWN.length} documents (README, SECURITY, docs/*.md) resolve to files in the repository`, () => {
    expect(MARKDOWN).toEqual(expect.arrayContaining(['README.md', 'SECURITY.md', 'docs/CONTRACT.md']));
    const broken: string[] = [];
    for (const file of MARKDOWN) {
      const body = text(file);
      if (body === null) continue;
      for (const target of links(body)) {
        const path = decodeURIComponent(target.replace(/[#?].*$/, ''));
        if (!path) continue;
        const rel = normalize(join(dirname(file), path)).replace(/\/$/, '');
        if (rel.startsWith('..') || (!trackedSet.has(rel) && !trackedDirs.has(rel))) broken.push(`${file}: (${target})`);
      }
    }
    expect(broken).toEqual([]);
  });
});
