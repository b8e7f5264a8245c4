import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { validateDetectBackfillInput } from '../../../src/api/backfillInput';
import { validateDetectBatchInput } from '../../../src/api/inputs';
import type { BackfillReport } from '../../../src/workflows/detectBackfill';
import { backfillReportLines, renderBackfillProgress, windowLabel } from '../../../src/client/cli/backfillReport';
import { scheduleBackfillInput } from '../../../src/client/schedules';
import { checkCombination, readSourceFile, type DetectOptions } from '../../../src/client/cli/commands/detect';
import { failureOf } from '../../support/failureOf';

const source = { kind: 'objects', connection: 'lake', bucket: 'sales', prefix: 'orders/dt={date}/', format: 'parquet', idColumn: 'id' };
const valid = { model: 'orders', source, from: '2026-11-01', to: '2026-11-08' };

function refusal(input: unknown): ApplicationFailure {
  const failure = failureOf(() => validateDetectBackfillInput(input));
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.type).toBe('InvalidInput');
  return failure;
}

describe('validateDetectBackfillInput', () => {
  it('turns a range of dates into whole local days, with the defaults', () => {
    const input = validateDetectBackfillInput(valid);
    expect(input).toMatchObject({ model: 'orders', period: 'day', timeZone: 'UTC', maxConcurrentWindows: 2, chunkRows: null, maxConcurrentChunks: null });
    expect(input.windows).toHaveLength(7);
    expect(input.windows[0]).toEqual({ start: '2026-11-01T00:00:00.000Z', end: '2026-11-02T00:00:00.000Z' });
    expect(input.windows[6]).toEqual({ start: '2026-11-07T00:00:00.000Z', end: '2026-11-08T00:00:00.000Z' });
    // Every window's job input is one detectBatch takes.
    for (const window of input.windows) validateDetectBatchInput({ model: input.model, source: input.source, window, period: input.period, timeZone: input.timeZone });
  });

  it('counts days in the zone: Paris days across the end of summer time, one of them 25 hours long', () => {
    const input = validateDetectBackfillInput({ ...valid, from: '2026-10-24', to: '2026-10-27', timeZone: 'Europe/Paris', maxConcurrentWindows: 16 });
    expect(input.windows).toEqual([
      { start: '2026-10-23T22:00:00.000Z', end: '2026-10-24T22:00:00.000Z' },
      { start: '2026-10-24T22:00:00.000Z', end: '2026-10-25T23:00:00.000Z' },
      { start: '2026-10-25T23:00:00.000Z', end: '2026-10-26T23:00:00.000Z' },
    ]);
  });

  it('takes hours and ISO instants', () => {
    const input = validateDetectBackfillInput({ ...valid, from: '2026-11-01T10:30:00Z', to: '2026-11-01T13:00:00+01:00', period: 'hour' });
    expect(input.windows.map((w) => w.start)).toEqual(['2026-11-01T10:00:00.000Z', '2026-11-01T11:00:00.000Z']);
  });

  it.each([
    [[valid], '(input)', 'must be one JSON object'],
    [{ ...valid, extra: 1 }, 'extra', 'is not a known field'],
    [{ ...valid, model: undefined }, 'model', 'is required'],
    [{ ...valid, source: undefined }, 'source', 'is required'],
    [{ ...valid, from: undefined }, 'from', 'is required'],
    [{ ...valid, from: 'last monday' }, 'from', '"last monday" is not a date'],
    [{ ...valid, to: '2026-11-08T00:00:00' }, 'to', 'is not a date'],
    [{ ...valid, to: '2026-02-30' }, 'to', 'is not a date'],
    [{ ...valid, from: '2026-11-08', to: '2026-11-01' }, 'to', '("2026-11-01") must be after "from" ("2026-11-08")'],
    [{ ...valid, from: '2026-11-01', to: '2026-11-01' }, 'to', 'must be after "from"'],
    [{ ...valid, from: '2021-01-01', to: '2026-06-24' }, 'to', 'is more than 1000 windows; split it into smaller ranges'],
    [{ ...valid, from: '2026-11-01', to: '2026-12-15', period: 'hour' }, 'to', 'by hour is more than 1000 windows'],
    [{ ...valid, period: 'week' }, 'period', '"week" is not one of hour, day'],
    [{ ...valid, timeZone: 'Mars/Olympus_Mons' }, 'timeZone', 'is not a time zone this runtime knows'],
    [{ ...valid, timeZone: '+01:00' }, 'timeZone', 'is not an IANA time zone name'],
    [{ ...valid, maxConcurrentWindows: 0 }, 'maxConcurrentWindows', 'must be an integer from 1 to 16, got 0'],
    [{ ...valid, maxConcurrentWindows: 17 }, 'maxConcurrentWindows', 'must be an integer from 1 to 16'],
    [{ ...valid, maxConcurrentWindows: 1.5 }, 'maxConcurrentWindows', 'must be an integer'],
    [{ ...valid, chunkRows: 10 }, 'chunkRows', 'must be an integer from 100'],
    [{ ...valid, maxConcurrentChunks: 101 }, 'maxConcurrentChunks', 'must be an integer from 1 to 100'],
  ])('refuses %j naming %s', (input, field, problem) => {
    const failure = refusal(input);
    expect(failure.message).toContain(`detectBackfill input: "${field}"`);
    expect(failure.message).toContain(problem);
  });

  it('refuses a range of 2000 days without listing them, and a huge bound without quoting it whole', () => {
    const longRange = refusal({ ...valid, from: '2020-01-01', to: '2025-06-23' });
    expect(longRange.message.length).toBeLessThan(300);
    const huge = refusal({ ...valid, from: `2026-11-01${'x'.repeat(100_000)}` });
    expect(huge.message).toContain('"from"');
    expect(huge.message.length).toBeLessThan(400);
  });

  it('refuses credentials in the source, naming the field and never the secret', () => {
    for (const [key, secret] of [['secretKey', 'hunter2-very-secret'], ['password', 'p4ssw0rd-secret'], ['url', 'postgres://admin:s3cr3t@db/orders']]) {
      const failure = refusal({ ...valid, source: { ...source, [key]: secret } });
      expect(failure.message).toContain(`"source.${key}"`);
      expect(failure.message).toContain('credentials never go in a workflow input');
      expect(failure.message).not.toContain(secret);
    }
    const inConnection = refusal({ ...valid, source: { ...source, connection: 'https://AKIA:wJalrXUtnFEMI@s3.example.com' } });
    expect(inConnection.message).toContain('"source.connection"');
    expect(inConnection.message).not.toContain('wJalrXUtnFEMI');
  });
});

describe('backfill of a schedule', () => {
  const action = (workflowType: string, args: unknown[]) => ({ type: 'startWorkflow', workflowType, args, taskQueue: 'nomaly-control', workflowId: 'x-run' }) as never;

  it('takes the model, source, period and zone of a detection schedule over a source', () => {
    const input = scheduleBackfillInput('nightly-orders', action('detectBatch', [{ model: 'orders', source, period: 'day', timeZone: 'Europe/Paris', chunkRows: 500 }]), { from: '2026-11-01', to: '2026-11-03' });
    expect(input).toEqual({ model: 'orders', source, from: '2026-11-01', to: '2026-11-03', period: 'day', timeZone: 'Europe/Paris', chunkRows: 500 });
    expect(validateDetectBackfillInput(input).windows).toHaveLength(2);
  });

  it('passes the schedule\'s sink to every window of its backfill', () => {
    const sink = { kind: 'postgres', connection: 'warehouse-writer', table: 'nomaly_anomalies', rows: 'anomalies' } as const;
    const input = scheduleBackfillInput('nightly-orders', action('detectBatch', [{ model: 'orders', source, sink }]), { from: '2026-11-01', to: '2026-11-03' });
    expect(validateDetectBackfillInput(input).sink).toEqual(sink);
  });

  it('refuses a schedule of another workflow, or of an uploaded dataset, naming it', () => {
    expect(() => scheduleBackfillInput('nightly-backup', action('backup', [{ scope: 'full' }]), { from: '2026-11-01', to: '2026-11-03' })).toThrow(
      'schedule nightly-backup starts backup, not detectBatch',
    );
    expect(() => scheduleBackfillInput('nightly-cardio', action('detectBatch', [{ model: 'cardio', datasetId: 'ds_0123456789abcdef' }]), { from: '2026-11-01', to: '2026-11-03' })).toThrow(
      'schedule nightly-cardio scores the uploaded dataset ds_0123456789abcdef, not a source',
    );
  });
});

describe('backfill text', () => {
  const report: BackfillReport = {
    backfillId: 'backfill-orders-1',
    model: 'orders',
    period: 'day',
    timeZone: 'Europe/Paris',
    windows: [
      { window: { start: '2026-10-31T23:00:00.000Z', end: '2026-11-01T23:00:00.000Z' }, status: 'scored', rows: 3000, anomalies: 31, jobId: 'a' },
      { window: { start: '2026-11-01T23:00:00.000Z', end: '2026-11-02T23:00:00.000Z' }, status: 'skipped', rows: 123456, anomalies: 7, jobId: 'b', scoredBy: 'detect-x' },
      { window: { start: '2026-11-02T23:00:00.000Z', end: '2026-11-03T23:00:00.000Z' }, status: 'no-data', rows: 0, anomalies: 0, jobId: 'c' },
      { window: { start: '2026-11-03T23:00:00.000Z', end: '2026-11-04T23:00:00.000Z' }, status: 'failed', rows: 0, anomalies: 0, jobId: 'd', error: 'connection "lake" is not configured' },
      { window: { start: '2026-11-04T23:00:00.000Z', end: '2026-11-05T23:00:00.000Z' }, status: 'running', rows: 0, anomalies: 0, jobId: 'e' },
    ],
    totals: { windows: 5, scored: 1, skipped: 1, noData: 1, failed: 1, rows: 126456, anomalies: 38 },
  };

  it('names windows by their local date (or hour) in the zone', () => {
    expect(windowLabel(report.windows[0].window, 'day', 'Europe/Paris')).toBe('2026-11-01');
    expect(windowLabel({ start: '2026-11-01T13:00:00.000Z' }, 'hour', 'Asia/Kolkata')).toBe('2026-11-01 18:30');
  });

  it('shows progress on one line and the finished table aligned, with why a window failed', () => {
    expect(renderBackfillProgress(report)).toBe('windows 4/5 done: 1 scored, 1 skipped, 1 no data, 1 failed; running 2026-11-05');
    expect(backfillReportLines(report)).toEqual([
      'backfill backfill-orders-1: model orders, 5 days (Europe/Paris)',
      'window        rows  anomalies  status',
      '2026-11-01    3000         31  scored',
      '2026-11-02  123456          7  skipped (scored by detect-x)',
      '2026-11-03       0          0  no data',
      '2026-11-04       0          0  failed: connection "lake" is not configured',
      '2026-11-05       0          0  running',
      'total: 1 scored, 1 skipped, 1 no data, 1 failed; 126456 rows, 38 anomalies',
    ]);
  });
});

describe('nomaly detect options', () => {
  const base = { model: 'orders' };

  it('takes a dataset, a source with one window, or a source with a range', () => {
    expect(() => checkCombination({ ...base, dataset: 'ds_0123456789abcdef' })).not.toThrow();
    expect(() => checkCombination({ ...base, source: 's.json', windowStart: '2026-11-01', windowEnd: '2026-11-02' })).not.toThrow();
    expect(() => checkCombination({ ...base, source: 's.json', from: '2026-11-01', to: '2026-12-01', concurrencyWindows: 4, timeZone: 'Europe/Paris' })).not.toThrow();
  });

  it.each([
    [{ model: 'orders' }, 'give one of --dataset'],
    [{ model: 'orders', dataset: 'ds_0123456789abcdef', source: 's.json' }, 'give one of --dataset'],
    [{ model: 'orders', dataset: 'ds_0123456789abcdef', from: '2026-11-01', timeZone: 'UTC' }, '--from, --time-zone apply to --source only'],
    [{ model: 'orders', source: 's.json', from: '2026-11-01' }, '--from and --to go together'],
    [{ model: 'orders', source: 's.json', from: '2026-11-01', to: '2026-11-02', exportCsv: true }, '--export-csv apply to one window\'s job, not to a backfill'],
    [{ model: 'orders', source: 's.json' }, '--source needs a window'],
    [{ model: 'orders', source: 's.json', windowStart: '2026-11-01', windowEnd: '2026-11-02', concurrencyWindows: 2 }, '--concurrency-windows applies to a backfill'],
  ])('refuses %j', (opts, message) => {
    expect(() => checkCombination(opts as DetectOptions)).toThrow(message);
  });

  it('reads the source file, and never quotes a file that is not JSON', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-source-'));
    const good = path.join(dir, 'source.json');
    writeFileSync(good, JSON.stringify(source));
    expect(readSourceFile(good)).toEqual(source);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"kind": "objects", secretKey: hunter2-secret}');
    expect(() => readSourceFile(bad)).toThrow(`--source ${bad}: not valid JSON`);
    expect(() => readSourceFile(bad)).not.toThrow(/hunter2/);
    expect(() => readSourceFile(path.join(dir, 'missing.json'))).toThrow('not readable (ENOENT)');
  });
});
