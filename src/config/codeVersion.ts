import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The version of the code that trains a model: package.json's version plus the git commit,
 * e.g. `0.1.0+3f2c1ab` (`-dirty` when the work tree had changes). `npm run build` records it in
 * dist/build-info.json (scripts/write-build-info.js), so a deployed worker reports the commit
 * it was built from; from sources (tests) it is read from git once per process.
 */
let cached: string | undefined;

export function codeVersion(): string {
  if (cached) return cached;
  const root = path.resolve(__dirname, '../..');
  const built = path.join(__dirname, '../build-info.json');
  if (existsSync(built)) {
    try {
      cached = String((JSON.parse(readFileSync(built, 'utf8')) as { codeVersion: string }).codeVersion);
      return cached;
    } catch {
      // fall through to git
    }
  }
  cached = describeSource(root);
  return cached;
}

export function describeSource(root: string): string {
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // no package.json next to the code
  }
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== '';
    return `${version}+${commit}${dirty ? '-dirty' : ''}`;
  } catch {
    return version;
  }
}
