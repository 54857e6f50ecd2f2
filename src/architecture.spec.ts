import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The module rules of the code style, checked on the source itself: no import
// cycles (under ES modules they fail at start-up, or worse, half-way), only
// the composition root imports realtime/, only realtime/ loads socket.io,
// only config/ reads the environment.

const SRC = resolve('src');
const ROOT = new Set(['main.ts', 'bootstrap.ts', 'drain.ts', 'app.module.ts']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : files(path);
    return /\.ts$/.test(name) && !/\.(spec|test)\.ts$/.test(name) ? [path] : [];
  });
}

/** Value imports (type-only ones vanish at run time): [specifier] per statement. */
function valueImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+([^;]*?)\s+from\s+'([^']+)'/gms)) {
    const clause = m[1].trim();
    if (/^type\s/.test(clause)) continue;
    const named = /^\{([^}]*)\}$/.exec(clause);
    if (named && named[1].split(',').map((x) => x.trim()).filter(Boolean).every((x) => x.startsWith('type '))) continue;
    out.push(m[2]);
  }
  for (const m of text.matchAll(/^import\s+'([^']+)'/gm)) out.push(m[1]);
  return out;
}

const all = files(SRC);
const graph = new Map<string, { text: string; deps: string[]; external: string[] }>();
for (const file of all) {
  const text = readFileSync(file, 'utf8');
  const specs = valueImports(text);
  graph.set(file, {
    text,
    deps: specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts'))),
    external: specs.filter((s) => !s.startsWith('.')),
  });
}
const rel = (f: string) => relative(SRC, f);

describe('architecture', () => {
  it('has no import cycle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') return void cycles.push([...path.slice(path.indexOf(file)), file].map(rel).join(' -> '));
      state.set(file, 'open');
      for (const dep of graph.get(file)?.deps ?? []) visit(dep, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of all) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('only the composition root imports realtime/; features reach it through the ports in events/', () => {
    const offenders = all
      .filter((f) => !rel(f).startsWith('realtime/') && !ROOT.has(rel(f)))
      .filter((f) => graph.get(f)!.deps.some((d) => rel(d).startsWith('realtime/')))
      .map(rel);
    expect(offenders).toEqual([]);
  });

  it('only realtime/ loads socket.io', () => {
    const offenders = all.filter((f) => !rel(f).startsWith('realtime/') && graph.get(f)!.external.some((e) => /^socket\.io($|\/)|^@socket\.io\//.test(e))).map(rel);
    expect(offenders).toEqual([]);
  });

  it('only config/ reads the environment', () => {
    const offenders = all.filter((f) => !rel(f).startsWith('config/') && /process\.env/.test(graph.get(f)!.text)).map(rel);
    expect(offenders).toEqual([]);
  });
});
