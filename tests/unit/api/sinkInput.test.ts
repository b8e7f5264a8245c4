import { ApplicationFailure } from '@temporalio/common';
import { quotedTable, validateSink } from '../../../src/api/sinkInput';
import { validateDetectBatchInput } from '../../../src/api/inputs';
import { validateDetectBackfillInput } from '../../../src/api/backfillInput';
import { failureOf } from '../../support/failureOf';

const sink = { kind: 'postgres', connection: 'warehouse-writer', table: 'nomaly_anomalies' };

function refusal(input: unknown): ApplicationFailure {
  const failure = failureOf(() => validateSink('detectBatch', input));
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.type).toBe('InvalidInput');
  return failure;
}

describe('validateSink', () => {
  it('takes a postgres sink, anomalies by default, a schema-qualified table, scores', () => {
    expect(validateSink('detectBatch', { ...sink })).toEqual({ ...sink, rows: 'anomalies' });
    expect(validateSink('detectBatch', { ...sink, table: 'analytics.nomaly_scores', rows: 'scores' })).toEqual({ ...sink, table: 'analytics.nomaly_scores', rows: 'scores' });
  });

  it.each([
    [null, 'sink', 'must be an object'],
    [{ connection: 'w', table: 't' }, 'sink.kind', 'is required (postgres)'],
    [{ ...sink, kind: 'objects' }, 'sink.kind', '"objects" is not one of postgres'],
    [{ ...sink, connection: undefined }, 'sink.connection', 'is required'],
    [{ ...sink, connection: 'no such' }, 'sink.connection', '"no such" is not valid'],
    [{ ...sink, table: undefined }, 'sink.table', 'is required'],
    [{ ...sink, table: 'orders; drop table orders; --' }, 'sink.table', 'is not a table name'],
    [{ ...sink, table: 'orders"; drop table orders; --' }, 'sink.table', 'is not a table name'],
    [{ ...sink, table: 'a.b.c' }, 'sink.table', 'is not a table name'],
    [{ ...sink, table: 'Orders' }, 'sink.table', 'is not a table name'],
    [{ ...sink, table: 42 }, 'sink.table', 'is not a table name'],
    [{ ...sink, rows: 'all' }, 'sink.rows', '"all" is not one of anomalies, scores'],
    [{ ...sink, query: 'select 1' }, 'sink.query', 'is not a known field of a postgres sink'],
  ])('refuses %j naming %s', (input, field, problem) => {
    const failure = refusal(input);
    expect(failure.message).toContain(`"${field}"`);
    expect(failure.message).toContain(problem);
  });

  it('refuses credentials without quoting them back', () => {
    for (const [field, value] of [['password', 'hunter2-secret'], ['url', 'postgres://w:hunter2-secret@db/x'], ['user', 'admin']]) {
      const failure = refusal({ ...sink, [field]: value });
      expect(failure.message).toContain(`"sink.${field}" is refused: credentials never go in a workflow input`);
      expect(failure.message).not.toContain('hunter2');
    }
    const inConnection = refusal({ ...sink, connection: 'writer:hunter2-secret@db' });
    expect(inConnection.message).toContain('"sink.connection" is refused');
    expect(inConnection.message).not.toContain('hunter2');
  });

  it('quotes every part of a table name', () => {
    expect(quotedTable('nomaly_anomalies')).toBe('"nomaly_anomalies"');
    expect(quotedTable('analytics.scores')).toBe('"analytics"."scores"');
  });

  it('is a field of detectBatch and of detectBackfill', () => {
    const source = { kind: 'objects', bucket: 'events', prefix: 'dt={date}/', format: 'csv' };
    expect(validateDetectBatchInput({ model: 'orders', source, window: { start: '2026-11-01', end: '2026-11-02' }, sink }).sink).toEqual({ ...sink, rows: 'anomalies' });
    expect(validateDetectBatchInput({ model: 'orders', datasetId: 'ds_0123456789abcdef' }).sink).toBeNull();
    expect(validateDetectBackfillInput({ model: 'orders', source, from: '2026-11-01', to: '2026-11-03', sink: { ...sink, rows: 'scores' } }).sink).toEqual({ ...sink, rows: 'scores' });
    const failure = failureOf(() => validateDetectBackfillInput({ model: 'orders', source, from: '2026-11-01', to: '2026-11-03', sink: { ...sink, table: "x'; drop table orders; --" } }));
    expect(failure.message).toContain('detectBackfill input: "sink.table"');
  });
});
