import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The checkout's root: the nearest folder above this file with a package.json. Found rather than
 * counted, because this file runs both from source (tests, through ts-jest) and compiled into
 * dist-scripts/scripts/, one level deeper.
 */
export const repoRoot: string = (() => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
  }
})();
