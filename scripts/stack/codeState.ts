import { execFileSync } from 'node:child_process';
import { repoRoot } from '../repoRoot';

/** The commit a benchmark measured, and whether src/ differed from it. */
export function codeState(): string {
  try {
    const head = execFileSync('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']).toString().trim();
    const dirty = execFileSync('git', ['-C', repoRoot, 'status', '--porcelain', '--', 'src']).toString().trim().split('\n').filter(Boolean).map((l) => l.slice(3));
    return `commit ${head}${dirty.length ? `, with uncommitted changes in ${dirty.map((f) => `\`${f}\``).join(', ')}` : ', no uncommitted changes under src/'}`;
  } catch {
    return 'unknown (no git)';
  }
}
