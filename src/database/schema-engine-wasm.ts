import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as bgTypes from '@prisma/schema-engine-wasm/schema_engine_bg';

export type SchemaEngine = bgTypes.SchemaEngine;
type Bindings = typeof bgTypes & { __wbg_set_wasm(exports: WebAssembly.Exports): void };

const BG_ENTRY = '@prisma/schema-engine-wasm/schema_engine_bg';
let loading: Promise<Bindings> | undefined;
const engineTimers = new Set<NodeJS.Timeout>();

// The package's default entry imports the .wasm as an ES module, which Node
// refuses, so the bindings are wired to the instance by hand. The bindings
// module holds one instance per module graph: instantiate it once.
export function loadSchemaEngineWasm(): Promise<Bindings> {
  loading ??= instantiate().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/**
 * The engine starts 10 s timers it never clears (the bindings import no
 * clearTimeout), which held every CLI run open 10 s after its work was done;
 * once no engine call is running, they may lapse without holding the process.
 */
export function releaseEngineTimers(): void {
  for (const timer of engineTimers) timer.unref();
  engineTimers.clear();
}

async function instantiate(): Promise<Bindings> {
  const bg = (await import(BG_ENTRY)) as Bindings;
  const bgFile = createRequire(import.meta.url).resolve(BG_ENTRY);
  const bytes = await readFile(path.join(path.dirname(bgFile), 'schema_engine_bg.wasm'));
  const imports: WebAssembly.ModuleImports = { ...(bg as unknown as WebAssembly.ModuleImports) };
  for (const name of Object.keys(imports).filter((n) => n.startsWith('__wbg_setTimeout_'))) {
    imports[name] = (fn: () => void, ms: number) => {
      const timer = setTimeout(() => (engineTimers.delete(timer), fn()), ms >>> 0);
      engineTimers.add(timer);
      return timer;
    };
  }
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': imports });
  bg.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return bg;
}
