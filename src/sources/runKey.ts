/**
 * A run over a source is known by what it scores, not by when: the model version, the source
 * (canonical JSON) and the window. Two runs with one key and one snapshot scored the same rows
 * with the same model, so the second is skipped; a different snapshot means the data changed.
 * A job that chooses its own threshold rule or explanations flags differently from one that
 * takes its model's, so what it chose is part of its key (and a run without a choice keeps the
 * key it always had).
 */
import { createHash } from 'node:crypto';
import { canonicalSource, type SourceSpec } from '../api/sourceInput';
import type { JobWindow } from '../api/window';
import type { ThresholdRule } from '../results/flagging';

export function runKey(model: { name: string; version: number }, source: SourceSpec, window: JobWindow, choices: { threshold?: ThresholdRule; explain?: number } = {}): string {
  const parts: unknown[] = [`${model.name}@${model.version}`, canonicalSource(source), window.start, window.end];
  if (choices.threshold !== undefined || choices.explain !== undefined) parts.push({ threshold: choices.threshold ?? null, explain: choices.explain ?? null });
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
