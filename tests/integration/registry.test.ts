import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ModelRegistry } from '../../src/db/modelRegistry';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const run = promisify(execFile);

/** Versions, statuses, lineage and promotion of the model registry on the real stack. */
describe('model registry', () => {
  let p: TestPlatform;
  let registry: ModelRegistry;
  let datasetId: string;

  beforeAll(async () => {
    p = await startTestPlatform();
    registry = new ModelRegistry(p.platform.orm);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-registry-')), 'labelled.csv');
    const lines = ['a,b,label'];
    for (let i = 0; i < 400; i++) lines.push(i % 20 === 0 ? `${9 + (i % 5)},-9,1` : `${(i * 37) % 101 / 100},${(i * 53) % 97 / 100},0`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    datasetId = (await p.client.uploadDataset(file)).id;
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('numbers versions per name and records lineage, code version and held-out metrics', async () => {
    const results = [];
    for (const seed of [1, 2, 3]) results.push(await (await p.client.startTraining({ datasetId, modelName: 'reg-lineage', seed, params: { nTrees: 20 } })).result());
    expect(results.map((r) => [r.version, r.status])).toEqual([[1, 'active'], [2, 'ready'], [3, 'ready']]);
    const shown = await registry.showModel('reg-lineage@2');
    expect(shown).toMatchObject({ name: 'reg-lineage', version: 2, status: 'ready', algorithm: 'isolation-forest', datasetId, featureColumns: ['a', 'b'] });
    expect(shown.params).toMatchObject({ nTrees: 20, seed: 2 });
    expect(shown.codeVersion).toMatch(/^0\.1\.0(\+[0-9a-f]{7,})?/);
    expect(shown.artifactSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(shown.trainedAt).not.toBeNull();
    expect(shown.durationMs).toBeGreaterThan(0);
    // Held out, not trained on: the two add up to the dataset.
    expect(shown.trainRows! + shown.metrics.heldOutRows).toBe(400);
    expect(shown.metrics.heldOutRocAuc).toBeGreaterThan(0.9);
    expect(shown.metrics.heldOutAveragePrecision).toBeGreaterThan(0.5);
    expect(shown.metrics.trainRocAuc).toBeUndefined();
    expect((await registry.showModel('reg-lineage')).version).toBe(1); // NAME = the active version
  });

  it('keeps exactly one active version under concurrent promotions', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = await Promise.all([registry.promote('reg-lineage@2'), registry.promote('reg-lineage@3')]);
      expect([a.promoted.version, b.promoted.version]).toEqual([2, 3]);
      const active = await p.sql<{ version: number }>("select version from model where name = 'reg-lineage' and status = 'active'");
      expect(active).toHaveLength(1);
      expect([2, 3]).toContain(active[0].version);
    }
    // The database itself refuses a second active version.
    await expect(p.sql("update model set status = 'active' where name = 'reg-lineage'")).rejects.toThrow(/model_one_active_per_name/);
  });

  it('archives a version but not the active one, and detection by name follows promotion', async () => {
    await registry.promote('reg-lineage@3');
    await expect(registry.archive('reg-lineage@3')).rejects.toThrow(/is the active version of "reg-lineage"; promote another version first/);
    expect((await registry.archive('reg-lineage@1')).status).toBe('archived');
    await expect(registry.promote('reg-lineage@9')).rejects.toThrow(/does not exist/);
    const summary = await (await p.client.startDetection({ model: 'reg-lineage', datasetId })).result();
    expect(summary.model).toMatch(/reg-lineage@3/);
    const [job] = await p.sql<{ model_id: number }>('select model_id from detection_job where id = ?', [summary.jobId]);
    expect(job.model_id).toBe((await registry.showModel('reg-lineage@3')).id);
  });

  const cli = path.resolve(__dirname, '../../dist/client/cli.js');
  it('nomaly models list | show | promote | archive from the CLI (scripts/test.sh builds dist first)', async () => {
    const env = { ...process.env };
    const list = JSON.parse((await run('node', [cli, 'models', 'list', '--name', 'reg-lineage', '--json'], { env })).stdout);
    expect(list.map((m: { version: number }) => m.version)).toEqual([3, 2, 1]);
    expect((await run('node', [cli, 'models', 'promote', 'reg-lineage@2'], { env })).stdout).toMatch(/reg-lineage@2 is active \(was reg-lineage@3\)/);
    expect((await run('node', [cli, 'models', 'show', 'reg-lineage'], { env })).stdout).toMatch(/model\s+reg-lineage@2[\s\S]*held-out ROC-AUC/);
    expect((await run('node', [cli, 'models', 'archive', 'reg-lineage@3'], { env })).stdout).toMatch(/reg-lineage@3 is archived/);
    const failed = await run('node', [cli, 'models', 'archive', 'reg-lineage@2'], { env }).catch((err: { stderr: string }) => err.stderr);
    expect(failed).toMatch(/is the active version/);
    expect((await run('node', [cli, 'datasets', 'show', datasetId], { env })).stdout).toMatch(/label\s+label/);
  });
});
