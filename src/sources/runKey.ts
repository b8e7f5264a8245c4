/**
 * A run over a source is known by what it scores, not by when: the model version, the source
 * (canonical JSON) and the window. Two runs with one key and one snapshot scored the same rows
 * with the same model, so the second is skipped; a different snapshot means the data changed.
 */
import { createHash } from 'node:crypto';
import { canonicalSource, type SourceSpec } from '../api/sourceInput';
import type { JobWindow } from '../api/window';

export function runKey(model: { name: string; version: number }, source: SourceSpec, window: JobWindow): string {
  return createHash('sha256')
    .update(JSON.stringify([`${model.name}@${model.version}`, canonicalSource(source), window.start, window.end]))
    .digest('hex');
}
