import { readFileSync } from 'node:fs';
import path from 'node:path';
import { supportedAlgorithms, trainableAlgorithms } from '../../../src/scoring/registry';

/** The docs name the detectors the registry declares, no more and no fewer. */
describe('the detector docs follow the registry', () => {
  const read = (file: string) => readFileSync(path.resolve(__dirname, '../../..', file), 'utf8');

  it("docs/architecture.md's table has one row naming each registered detector", () => {
    const rows = read('docs/architecture.md').split('\n').filter((line) => /^\| `[a-z-]+`/.test(line));
    const named = rows.flatMap((row) => [...row.split('|')[1].matchAll(/`([a-z-]+)`/g)].map((m) => m[1]));
    expect([...named].sort()).toEqual([...supportedAlgorithms()].sort());
  });

  it("the README's trainModel section lists each algorithm trainModel offers", () => {
    const readme = read('README.md');
    const sentence = readme.slice(readme.indexOf('`algorithm` is one of'), readme.indexOf('`params` holds'));
    const named = [...sentence.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]).filter((name) => name !== 'algorithm');
    expect([...named].sort()).toEqual([...trainableAlgorithms()].sort());
  });
});
