import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The module rules of the code style, checked on the source itself: no import
// cycles (under ES modules they fail at start-up, or worse, half-way), only
// the composition root imports realtime/, only realtime/ loads socket.io,
// only config/ reads the environment; inside realtime/, three protocols with
// one-way edges; and the same for Nest's module graph, which is what decides
// who depends on whom at run time.

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
    if (
      named &&
      named[1]
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
        .every((x) => x.startsWith('type '))
    )
      continue;
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

  it('inside realtime/: transport/ and presence/ import no other realtime folder; delivery/ imports them, never the root', () => {
    const may: Record<string, string[]> = { 'realtime/transport/': [], 'realtime/presence/': [], 'realtime/delivery/': ['realtime/transport/', 'realtime/presence/'] };
    const offenders: string[] = [];
    for (const file of all) {
      const own = Object.keys(may).find((dir) => rel(file).startsWith(dir));
      if (!own) continue;
      for (const dep of graph.get(file)!.deps.map(rel)) {
        if (!dep.startsWith('realtime/') || dep.startsWith(own)) continue;
        if (!may[own].some((dir) => dep.startsWith(dir))) offenders.push(`${rel(file)} -> ${dep}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  describe('Nest modules', () => {
    // Each @Module class, with the modules it imports (static or forRoot()) and whether it is @Global.
    const modules = new Map<string, { file: string; imports: string[]; global: boolean }>();
    for (const file of all.filter((f) => f.endsWith('.module.ts'))) {
      const text = graph.get(file)!.text;
      for (const m of text.matchAll(/(@Global\(\)\s*)?@Module\(\{([\s\S]*?)\}\)\s*export class (\w+)/g)) {
        const imports = /imports:\s*\[([^\]]*)\]/.exec(m[2])?.[1] ?? '';
        modules.set(m[3], { file: rel(file), imports: [...imports.matchAll(/(\w+Module)\b/g)].map((i) => i[1]), global: !!m[1] });
      }
      // A dynamic module's imports are the ones forRoot() returns.
      for (const m of text.matchAll(/export class (\w+Module)[\s\S]*?imports:\s*\[([^\]]*)\]/g)) {
        const known = modules.get(m[1]);
        if (known && known.imports.length === 0) known.imports = [...m[2].matchAll(/(\w+Module)\b/g)].map((i) => i[1]);
      }
    }

    it('finds every module (the graph below is the real one)', () => {
      expect([...modules.keys()]).toEqual(
        expect.arrayContaining(['AppModule', 'CoreModule', 'RealtimeModule', 'TransportModule', 'DeliveryModule', 'PresenceModule', 'ChannelsModule', 'MessagesModule']),
      );
      expect(modules.get('DeliveryModule')!.imports).toEqual(expect.arrayContaining(['TransportModule', 'PresenceModule']));
    });

    it('have no import cycle', () => {
      const cycles: string[] = [];
      const state = new Map<string, 'open' | 'done'>();
      const visit = (name: string, path: string[]) => {
        if (state.get(name) === 'done') return;
        if (state.get(name) === 'open') return void cycles.push([...path.slice(path.indexOf(name)), name].join(' -> '));
        state.set(name, 'open');
        for (const dep of modules.get(name)?.imports ?? []) visit(dep, [...path, name]);
        state.set(name, 'done');
      };
      for (const name of modules.keys()) visit(name, []);
      expect(cycles).toEqual([]);
    });

    it('a global module imports nothing, so no cycle can hide behind it', () => {
      const offenders = [...modules].filter(([, m]) => m.global && m.imports.length > 0).map(([name, m]) => `${name}: ${m.imports.join(', ')}`);
      expect(offenders).toEqual([]);
    });

    it('transport and presence import no other realtime module; only AppModule imports RealtimeModule', () => {
      const realtime = ['TransportModule', 'PresenceModule', 'DeliveryModule', 'RealtimeModule'];
      expect(modules.get('TransportModule')!.imports.filter((i) => realtime.includes(i))).toEqual([]);
      expect(modules.get('PresenceModule')!.imports.filter((i) => realtime.includes(i))).toEqual([]);
      expect([...modules].filter(([, m]) => m.imports.includes('RealtimeModule')).map(([name]) => name)).toEqual(['AppModule']);
    });
  });
});
