import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The arrows of docs/architecture.md's map, checked on the code: each room's imports of other
 * rooms of src/. A type-only import (`import type`) carries no code and is allowed where noted.
 */
const SRC = path.resolve(__dirname, '../../src');

interface Import {
  file: string;
  room: string;
  typeOnly: boolean;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** The other rooms of src/ a room's files import, statement by statement (multi-line imports included). */
function importsOf(room: string): Import[] {
  return filesUnder(path.join(SRC, room)).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)';/gms)]
      .filter((m) => m[3].startsWith('.'))
      .map((m) => ({ file: path.relative(SRC, file), typeOnly: Boolean(m[2]), target: path.relative(SRC, path.resolve(path.dirname(file), m[3])) }))
      .map(({ file: from, typeOnly, target }) => ({ file: from, typeOnly, room: target.split(path.sep)[0] }))
      .filter((i) => i.room !== room);
  });
}

function offending(room: string, allowed: string[], typesAlsoFrom: string[] = []): string[] {
  return importsOf(room)
    .filter((i) => !allowed.includes(i.room) && !(i.typeOnly && typesAlsoFrom.includes(i.room)))
    .map((i) => `${i.file} imports ${i.typeOnly ? 'types of ' : ''}${i.room}/`);
}

describe('the map: arrows point one way', () => {
  it('sees the imports it checks (multi-line and type-only ones included)', () => {
    const workflows = importsOf('workflows');
    expect(workflows.some((i) => i.room === 'api' && !i.typeOnly)).toBe(true);
    expect(workflows.some((i) => i.room === 'activities' && i.typeOnly)).toBe(true);
    expect(offending('client', [])).toContain('client/readStore.ts imports backup/');
  });

  it('the scoring core imports nothing of Nomaly', () => {
    expect(offending('scoring', [])).toEqual([]);
  });

  it('domain rooms never import activities, workflows, workers or the client', () => {
    for (const room of ['data', 'db', 'storage', 'backup', 'results', 'observability', 'config', 'sources', 'sinks']) {
      expect(offending(room, ['scoring', 'data', 'db', 'storage', 'backup', 'results', 'observability', 'config', 'sources', 'sinks', ...(room === 'sources' || room === 'sinks' ? ['api'] : [])])).toEqual([]);
    }
  });

  it('api (shared with the client) imports no activities, workflows, workers or client', () => {
    expect(offending('api', ['scoring', 'data', 'storage', 'config'], ['db', 'results'])).toEqual([]);
  });

  it('activities never import workers, workflows or the client', () => {
    expect(offending('activities', ['api', 'scoring', 'data', 'db', 'storage', 'backup', 'results', 'observability', 'config', 'sources', 'sinks'])).toEqual([]);
  });

  it('workflows import api and config, and only types of anything else', () => {
    expect(offending('workflows', ['api', 'config'], ['activities', 'backup', 'data', 'scoring', 'results', 'db'])).toEqual([]);
  });

  it('the client never imports activities or workers, and only types of workflows', () => {
    expect(offending('client', ['api', 'config', 'data', 'db', 'storage', 'backup', 'results', 'scoring', 'sources'], ['workflows'])).toEqual([]);
  });
});
