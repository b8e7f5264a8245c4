import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { ModelRegistry } from '../../src/db/modelRegistry';
import { MAX_DATASET_NAME_CHARS } from '../../src/api/inputs';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const CORPUS = path.resolve(__dirname, '../fixtures/malformed');
const SIZE_LIMIT = 1024 * 1024;

interface Case {
  file: string;
  covers: string;
  expect: 'refused' | 'accepted';
  error?: string;
  generated?: string;
  dataset?: { rows: number; featureColumns: string[]; labelColumn?: string; idColumn?: string };
}
const manifest = JSON.parse(readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8')) as { cases: Case[] };

/** The files too big or too binary to keep in git, made the same way on every run. */
const GENERATED: Record<string, () => Buffer> = {
  'gzip-renamed.csv': () => gzipSync('a,b,label\n1,2,0\n3,4,1\n'),
  'truncated.parquet': () => {
    const whole = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'a', data: Array.from({ length: 100 }, (_, i) => i / 7), type: 'DOUBLE' }] }));
    return whole.subarray(0, whole.length - 100);
  },
  'wide-100k-columns.csv': () => {
    const columns = 100_000;
    return Buffer.from(`${Array.from({ length: columns }, (_, i) => `c${i}`).join(',')}\n${Array(columns).fill('1').join(',')}\n`);
  },
  'over-size-limit.csv': () => {
    const header = Buffer.from('a\n');
    return Buffer.concat([header, Buffer.from('1\n'.repeat((SIZE_LIMIT - header.length) / 2 + 1))]);
  },
};

/** Every malformed or odd file a user might upload: refused at once with a clear error and nothing left behind, or registered. */
describe('malformed uploads: refused fast, nothing left behind; odd but valid files registered', () => {
  let p: TestPlatform;
  let dir: string;
  const savedLimit = process.env.NOMALY_MAX_DATASET_BYTES;

  beforeAll(async () => {
    process.env.NOMALY_MAX_DATASET_BYTES = String(SIZE_LIMIT);
    p = await startTestPlatform(['control']);
    dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-malformed-'));
  });
  afterAll(async () => {
    if (savedLimit === undefined) delete process.env.NOMALY_MAX_DATASET_BYTES;
    else process.env.NOMALY_MAX_DATASET_BYTES = savedLimit;
    await p?.stop();
  });

  /** Everything a refused upload could leave: every object in the datasets bucket, and the dataset rows. */
  async function sweep(): Promise<{ objects: string[]; datasetRows: number }> {
    await p.platform.store.ensureBuckets([p.config.buckets.datasets]);
    const objects = (await p.platform.store.listKeys(p.config.buckets.datasets, '')).sort();
    const [{ count }] = await p.sql<{ count: string }>('select count(*) from dataset');
    return { objects, datasetRows: Number(count) };
  }

  /** The upload's outcome and how long it took to come. */
  async function upload(file: string, name?: string): Promise<{ error?: unknown; summary?: Awaited<ReturnType<TestPlatform['client']['uploadDataset']>>; ms: number }> {
    const started = Date.now();
    return p.client.uploadDataset(file, name === undefined ? {} : { name }).then(
      (summary) => ({ summary, ms: Date.now() - started }),
      (error: unknown) => ({ error, ms: Date.now() - started }),
    );
  }

  function expectRefusal(outcome: { error?: unknown; ms: number }, message: string): void {
    expect(outcome.error).toBeInstanceOf(ApplicationFailure);
    expect(outcome.error).toMatchObject({ nonRetryable: true });
    expect((outcome.error as Error).message).toContain(message);
    expect(outcome.ms).toBeLessThan(5000);
  }

  it('the manifest lists every file of the corpus, and every generated file has a generator', () => {
    const listed = manifest.cases.filter((c) => !c.generated).map((c) => c.file).sort();
    expect(readdirSync(CORPUS).filter((f) => f !== 'manifest.json').sort()).toEqual(listed);
    expect(manifest.cases.filter((c) => c.generated).map((c) => c.file).sort()).toEqual(Object.keys(GENERATED).sort());
  });

  const refused = manifest.cases.filter((c) => c.expect === 'refused');
  it.each(refused.map((c) => [c.covers, c] as const))('refuses %s with a clear non-retryable error within 5 s, leaving nothing behind', async (_covers, c) => {
    const file = path.join(dir, c.file);
    if (c.generated) writeFileSync(file, GENERATED[c.file]());
    else copyFileSync(path.join(CORPUS, c.file), file);
    const before = await sweep();
    expectRefusal(await upload(file), c.error!);
    expect(await sweep()).toEqual(before);
  });

  const accepted = manifest.cases.filter((c) => c.expect === 'accepted');
  it.each(accepted.map((c) => [c.covers, c] as const))('registers a file with %s', async (_covers, c) => {
    const outcome = await upload(path.join(CORPUS, c.file));
    expect(outcome.error).toBeUndefined();
    expect(outcome.summary).toMatchObject({ labelColumn: null, idColumn: null, ...c.dataset });
    const registered = await new ModelRegistry(p.platform.orm).showDataset(outcome.summary!.id);
    expect(registered).toMatchObject({ rows: c.dataset!.rows, featureColumns: c.dataset!.featureColumns, sha256: outcome.summary!.sha256 });
    expect((await sweep()).objects).toContain(`sha256/${outcome.summary!.sha256.slice(0, 2)}/${outcome.summary!.sha256}.csv`);
  });

  it.each([
    ['a name one character too long', 'n'.repeat(MAX_DATASET_NAME_CHARS + 1), `"name" is ${MAX_DATASET_NAME_CHARS + 1} characters long; a dataset name has at most ${MAX_DATASET_NAME_CHARS}`],
    ['an empty name', '', '"name" is required and must be a non-empty string'],
    ['a blank name', '   ', '"name" is blank'],
    ['a name with a line break', 'two\nlines', '"name" holds a control character'],
  ])('refuses %s before uploading anything', async (_what, name, message) => {
    const file = path.join(dir, 'named.csv');
    writeFileSync(file, 'a,b\n1,2\n3,4\n');
    const before = await sweep();
    expectRefusal(await upload(file, name), message);
    expect(await sweep()).toEqual(before);
  });
});
