import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Whether the module at `moduleUrl` is the program node was started with (not an import). */
export function isEntry(moduleUrl: string): boolean {
  const invokedAs = process.argv[1];
  return !!invokedAs && moduleUrl === pathToFileURL(realpathSync(invokedAs)).href;
}
