import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ModelRegistry } from '../../src/db/modelRegistry';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { SEARCH_ATTRIBUTES } from '../../src/api/searchAttributes';
import { waitFor } from './backupFixtures';

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
    // Held out for evaluation or calibration, or trained on: the three add up to the dataset.
    expect(shown.trainRows! + shown.metrics.heldOutRows + shown.metrics.calibrationScores).toBe(400);
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
    expect((await run('node', [cli, 'datasets', 'show', datasetId], { env })).stdout).toMatch(/label\s+number\s+label/);
  });

  describe('lists, pages and deletions', () => {
    const env = { ...process.env };
    const cliJson = async <T>(args: string[]): Promise<T> => JSON.parse((await run('node', [cli, ...args, '--json'], { env })).stdout) as T;
    const cliFailure = (args: string[]): Promise<string> =>
      run('node', [cli, ...args], { env }).then(
        (ok) => {
          throw new Error(`expected nomaly ${args.join(' ')} to fail; it printed ${ok.stdout}`);
        },
        (err: { stderr: string }) => err.stderr,
      );
    const tag = Date.now().toString(36);
    /** A dataset of its own bytes (content-addressed ids), with a name to find it by. */
    async function uniqueDataset(name: string, seed: number): Promise<{ id: string; sha256: string; objectKey: string }> {
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-registry-')), `${name}.csv`);
      const lines = ['id,a,b'];
      for (let i = 0; i < 300; i++) lines.push(`r${i},${((i * seed) % 101) / 100},${((i * 53 + seed) % 97) / 100}`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      const summary = await p.client.uploadDataset(file, { name });
      const [row] = await p.sql<{ sha256: string; object_key: string }>('select sha256, object_key from dataset where id = ?', [summary.id]);
      return { id: summary.id, sha256: row.sha256, objectKey: row.object_key };
    }

    it('pages and filters models list and datasets list with --limit, --offset, --name, --dataset', async () => {
      const page = await cliJson<Array<{ version: number }>>(['models', 'list', '--name', 'reg-lineage', '--limit', '2', '--offset', '1']);
      expect(page.map((m) => m.version)).toEqual([2, 1]);
      const byDataset = await cliJson<Array<{ name: string; datasetId: string }>>(['models', 'list', '--dataset', datasetId]);
      expect(byDataset.length).toBeGreaterThanOrEqual(3);
      expect(byDataset.every((m) => m.datasetId === datasetId)).toBe(true);

      const a = await uniqueDataset(`list-${tag}-a`, 3);
      const b = await uniqueDataset(`list-${tag}-b`, 7);
      const named = await cliJson<Array<{ id: string }>>(['datasets', 'list', '--name', `LIST-${tag}`]);
      expect(named.map((d) => d.id).sort()).toEqual([a.id, b.id].sort());
      const first = await cliJson<Array<{ id: string }>>(['datasets', 'list', '--name', `list-${tag}`, '--limit', '1']);
      const second = await cliJson<Array<{ id: string }>>(['datasets', 'list', '--name', `list-${tag}`, '--limit', '1', '--offset', '1']);
      expect([...first, ...second].map((d) => d.id).sort()).toEqual([a.id, b.id].sort());
      expect(await cliJson(['datasets', 'list', '--name', `list-${tag}`, '--offset', '2'])).toEqual([]);
      expect((await run('node', [cli, 'datasets', 'list', '--name', `none-${tag}`], { env })).stdout).toMatch(/^no datasets match/);
      expect(await cliFailure(['datasets', 'list', '--limit', '0'])).toMatch(/--limit.*must be a whole number from 1 to 1000/);
      expect(await cliFailure(['models', 'list', '--status', 'bogus'])).toMatch(/--status.*Allowed choices are training, ready, active, archived, failed/);
      expect(await cliJson(['datasets', 'list', '--name', `list-${tag}`, '--format', 'parquet'])).toEqual([]);
      expect((await cliJson<unknown[]>(['datasets', 'list', '--name', `list-${tag}`, '--format', 'csv'])).length).toBe(2);
      const active = await cliJson<Array<{ status: string }>>(['models', 'list', '--name', 'reg-lineage', '--status', 'active']);
      expect(active.map((m) => m.status)).toEqual(['active']);
    });

    it('models delete refuses the active version alone and one a running job uses; deletes others with their artifacts, keeping finished jobs\' results', async () => {
      const data = await uniqueDataset(`del-model-${tag}`, 11);
      const name = `reg-del-${tag}`;
      for (const seed of [1, 2]) await (await p.client.startTraining({ datasetId: data.id, modelName: name, seed, params: { nTrees: 10 } })).result();
      const job = await (await p.client.startDetection({ model: `${name}@2`, datasetId: data.id })).result();
      const v2 = await registry.showModel(`${name}@2`);

      expect(await cliFailure(['models', 'delete', `${name}@1`])).toMatch(new RegExp(`${name}@1 is the active version \\(detection by "${name}" uses it\\): promote another version first`));
      await p.sql("update detection_job set status = 'running' where id = ?", [job.jobId]);
      try {
        expect(await cliFailure(['models', 'delete', `${name}@2`])).toMatch(new RegExp(`${name}@2 is scoring in running job ${job.jobId}`));
      } finally {
        await p.sql("update detection_job set status = 'completed' where id = ?", [job.jobId]);
      }
      expect(await p.platform.store.stat(p.config.buckets.models, v2.artifactKey)).toBeDefined();

      expect((await run('node', [cli, 'models', 'delete', `${name}@2`], { env })).stdout).toBe(`deleted ${name}@2\n`);
      expect(await p.platform.store.stat(p.config.buckets.models, v2.artifactKey)).toBeUndefined();
      expect(await p.sql('select id from model where id = ?', [v2.id])).toEqual([]);
      const [kept] = await p.sql<{ model_id: number | null; status: string }>('select model_id, status from detection_job where id = ?', [job.jobId]);
      expect(kept).toEqual({ model_id: null, status: 'completed' });
      expect(await p.platform.store.stat(job.scoresBucket, job.scoresKey)).toBeDefined();
      expect(await cliFailure(['models', 'delete', `${name}@2`])).toMatch(/does not exist/);

      // The deleted number is not handed out again: job summaries naming NAME@2 keep meaning the deleted model.
      const next = await (await p.client.startTraining({ datasetId: data.id, modelName: name, seed: 3, params: { nTrees: 10 } })).result();
      expect(next.version).toBe(3);
    });

    it('datasets delete refuses while a model was trained on it or a job scored it, then removes its objects and row (and with --with-jobs the jobs\' records and results)', async () => {
      const data = await uniqueDataset(`del-data-${tag}`, 13);
      const name = `reg-deldata-${tag}`;
      await (await p.client.startTraining({ datasetId: data.id, modelName: name, params: { nTrees: 10 } })).result();
      const job = await (await p.client.startDetection({ model: name, datasetId: data.id })).result();
      const datasetObjects = () => p.platform.store.listKeys(p.config.buckets.datasets, data.objectKey.replace(/\.csv$/, ''));
      expect((await datasetObjects()).length).toBeGreaterThanOrEqual(2); // the file and its row index

      expect(await cliFailure(['datasets', 'delete', data.id])).toMatch(new RegExp(`dataset ${data.id} was not deleted: model versions were trained on it: ${name}@1 \\(active\\)`));
      // The whole name may go, active version and all.
      expect((await run('node', [cli, 'models', 'delete', name], { env })).stdout).toBe(`deleted ${name}@1\n`);

      await p.sql("update detection_job set status = 'running' where id = ?", [job.jobId]);
      try {
        expect(await cliFailure(['datasets', 'delete', data.id, '--with-jobs'])).toMatch(new RegExp(`running detection jobs use it: ${job.jobId}`));
      } finally {
        await p.sql("update detection_job set status = 'completed' where id = ?", [job.jobId]);
      }
      expect(await cliFailure(['datasets', 'delete', data.id])).toMatch(/1 finished detection job\(s\) scored it .*add --with-jobs/);
      expect((await datasetObjects()).length).toBeGreaterThanOrEqual(2);

      const deleted = await cliJson<{ removedJobs: string[] }>(['datasets', 'delete', data.id, '--with-jobs']);
      expect(deleted.removedJobs).toEqual([job.jobId]);
      expect(await datasetObjects()).toEqual([]);
      expect(await p.platform.store.listKeys(job.scoresBucket, `jobs/${job.jobId}/`)).toEqual([]);
      expect(await p.sql('select id from dataset where id = ?', [data.id])).toEqual([]);
      expect(await p.sql('select id from detection_job where id = ?', [job.jobId])).toEqual([]);
      expect(await p.sql('select id from anomaly where job_id = ?', [job.jobId])).toEqual([]);
      expect(await cliFailure(['datasets', 'show', data.id])).toMatch(/does not exist/);

      // The same bytes can be uploaded again afterwards.
      const again = await uniqueDataset(`del-data-${tag}`, 13);
      expect(again.id).toBe(data.id);
    });
    it('refuses to delete a dataset or model a job still running in Temporal names, before its record exists', async () => {
      const data = await uniqueDataset(`del-running-${tag}`, 17);
      const name = `reg-running-${tag}`;
      // A detection nobody works on yet (its task queue has no worker): running, with no detection_job row.
      const handle = await p.client.temporal.workflow.start('detectBatch', {
        taskQueue: `nobody-polls-${tag}`,
        workflowId: `detect-waiting-${tag}`,
        args: [{ model: name, datasetId: data.id }],
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.dataset, value: data.id },
          { key: SEARCH_ATTRIBUTES.model, value: name },
        ],
      });
      try {
        await waitFor('the waiting job listed', async () => (await p.client.listJobs({ dataset: data.id })).some((j) => j.status === 'RUNNING'), 30_000, 200);
        expect(await cliFailure(['datasets', 'delete', data.id])).toMatch(new RegExp(`dataset ${data.id} was not deleted: running jobs use it: detectBatch ${handle.workflowId}`));
        expect(await cliFailure(['models', 'delete', name])).toMatch(new RegExp(`model ${name} was not deleted: running jobs use it: detectBatch ${handle.workflowId}`));
        expect(await p.sql('select id from dataset where id = ?', [data.id])).toHaveLength(1);
      } finally {
        await handle.terminate('test over');
      }
      await waitFor('the job listed as closed', async () => (await p.client.listJobs({ dataset: data.id })).every((j) => j.status !== 'RUNNING'), 30_000, 200);
      expect((await run('node', [cli, 'datasets', 'delete', data.id], { env })).stdout).toMatch(new RegExp(`^deleted dataset ${data.id}`));
    });
  });
});
