import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelRegistry } from '../../src/db/modelRegistry';
import { findDetectorFactory, trainableAlgorithms } from '../../src/scoring/registry';
import { ALGORITHMS } from '../../src/api/inputs';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

/**
 * Adding a detector is one class plus one registry entry: every entry the registry offers is
 * accepted by trainModel's input and trained end to end on the real stack, with trainModel's
 * `seed` reaching exactly the detectors the registry says take one.
 */
describe('every registered detector', () => {
  let p: TestPlatform;
  let registry: ModelRegistry;
  let datasetId: string;

  // Options only where a detector has no usable default (an ensemble needs its members).
  const params: Record<string, Record<string, unknown>> = {
    ensemble: { members: [{ algorithm: 'hbos' }, { algorithm: 'ecod' }] },
  };

  beforeAll(async () => {
    p = await startTestPlatform();
    registry = new ModelRegistry(p.platform.orm);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-every-detector-')), 'points.csv');
    const lines = ['a,b,c'];
    for (let i = 0; i < 300; i++) lines.push(`${((i * 37) % 101) / 100},${((i * 53) % 97) / 100},${((i * 71) % 89) / 100}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    datasetId = (await p.client.uploadDataset(file)).id;
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('the workflow input offers exactly the registry', () => {
    expect(ALGORITHMS).toEqual(trainableAlgorithms());
    expect(ALGORITHMS.length).toBeGreaterThanOrEqual(11);
  });

  it.each(trainableAlgorithms())('%s is accepted by trainModel and trained', async (algorithm) => {
    const modelName = `every-${algorithm}`;
    const result = await (await p.client.startTraining({ datasetId, modelName, algorithm, seed: 7, params: params[algorithm] })).result();
    expect(result.version).toBe(1);
    const shown = await registry.showModel(`${modelName}@1`);
    expect(shown.algorithm).toBe(algorithm);
    // A seeded fifth of the rows is held out as calibration rows, the rest trained on.
    expect(shown.trainRows! + shown.metrics!.calibrationScores).toBe(300);
    expect(shown.artifactSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(shown.params.seed).toBe(findDetectorFactory(algorithm)!.takesSeed ? 7 : undefined);
  });
});
