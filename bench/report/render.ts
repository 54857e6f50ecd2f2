// Re-renders docs/benchmark.md, its charts and the README's summary block from
// a results file, without running anything (verdicts are derived again and
// written back to the file): `node dist/bench/report/render.js bench/results/<date>.json [ROOT]`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isEntry } from '../../scripts/entry.js';
import { judge, writeReport } from './finish.js';
import { missingFields, readResults } from './results.js';

async function main(): Promise<void> {
  const [file, outRoot] = process.argv.slice(2);
  if (!file) {
    console.error('usage: render.js RESULTS.json [ROOT (default: the repository)]');
    process.exit(2);
  }
  const results = readResults(file);
  const missing = missingFields(results);
  if (missing.length) console.error(`warning: ${file} lacks ${missing.join(', ')}`);
  judge(results);
  // Verdicts are derived from the measurements: the file keeps them in step with the report.
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  const root = outRoot ? path.resolve(outRoot) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  console.log(await writeReport(results, root, file));
}

if (isEntry(import.meta.url)) void main();
