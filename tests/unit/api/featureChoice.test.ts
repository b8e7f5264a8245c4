import { ApplicationFailure } from '@temporalio/common';
import { validateFeatureChoice } from '../../../src/api/featureChoice';
import { resolveFeatures, type ProfiledColumns } from '../../../src/api/featureResolution';
import { validateTrainModelInput } from '../../../src/api/inputs';
import type { ColumnProfile } from '../../../src/data/profile';
import { failureOf } from '../../support/failureOf';

const base = { datasetId: 'ds_0123456789abcdef', modelName: 'orders' };

function column(name: string, role: string, type: string): ColumnProfile {
  return { name, role, type, min: null, max: null, mean: null, nullCount: 0 } as unknown as ColumnProfile;
}

/** An orders dataset as registration profiles it: every column type, a text note excluded. */
const orders: ProfiledColumns = {
  id: 'ds_0123456789abcdef',
  columns: ['order_id', 'amount', 'n_items', 'is_gift', 'country', 'created_at', 'note', 'label'],
  featureColumns: ['amount', 'n_items', 'is_gift', 'country', 'created_at'],
  labelColumn: 'label',
  idColumn: 'order_id',
  columnProfiles: [
    column('order_id', 'id', 'text'),
    column('amount', 'feature', 'number'),
    column('n_items', 'feature', 'integer'),
    column('is_gift', 'feature', 'boolean'),
    column('country', 'feature', 'category'),
    column('created_at', 'feature', 'timestamp'),
    column('note', 'excluded', 'text'),
    column('label', 'label', 'number'),
  ],
};

function refusal(work: () => unknown): { message: string; type: string | undefined; nonRetryable: boolean } {
  const failure = failureOf(work);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  return { message: failure.message, type: failure.type ?? undefined, nonRetryable: failure.nonRetryable };
}

describe('trainModel column choice: the input', () => {
  it('keeps the new fields only when given, so older inputs validate as they did', () => {
    const plain = validateTrainModelInput(base);
    expect(plain).not.toHaveProperty('exclude');
    expect(plain).not.toHaveProperty('schema');
    expect(plain).not.toHaveProperty('timestamps');
    expect(plain).not.toHaveProperty('timeZone');
    const chosen = validateTrainModelInput({ ...base, features: ['amount', 'country'], schema: { country: 'category' }, timestamps: 'exclude', timeZone: 'Europe/Paris' });
    expect(chosen).toMatchObject({ featureColumns: ['amount', 'country'], schema: { country: 'category' }, timestamps: 'exclude', timeZone: 'Europe/Paris' });
    expect(validateTrainModelInput({ ...base, exclude: ['note'] }).exclude).toEqual(['note']);
  });

  it.each([
    [{ features: 'amount' }, '"features" must be a non-empty list of column names'],
    [{ features: [] }, '"features" must be a non-empty list'],
    [{ features: ['amount', 7] }, '"features[1]" must be a column name (a non-empty string), got 7'],
    [{ features: ['amount', ''] }, '"features[1]" must be a column name'],
    [{ features: ['amount', 'amount'] }, '"features[1]" names "amount" twice'],
    [{ features: ['x'.repeat(5000)] }, '"features[0]" is 5000 characters long'],
    [{ features: ['a'], featureColumns: ['a'] }, '"features" and "featureColumns" name the same thing'],
    [{ exclude: {} }, '"exclude" must be a non-empty list'],
    [{ exclude: [null] }, '"exclude[0]" must be a column name'],
    [{ features: ['note'], exclude: ['note'] }, '"exclude" names "note", which "features" asks for'],
    [{ schema: [] }, '"schema" must be an object of column → type'],
    [{ schema: {} }, '"schema" must be an object of column → type'],
    [{ schema: 'country=category' }, '"schema" must be an object'],
    [{ schema: { country: 'categorical' } }, '"schema.country" "categorical" is not one of number, integer, boolean, category, timestamp, exclude'],
    [{ schema: { country: { type: 'category' } } }, '"schema.country" {"type":"category"} is not one of'],
    [{ schema: { note: 'exclude' }, features: ['note'] }, '"schema.note" is "exclude", but "features" asks for "note"'],
    [{ timestamps: 'hour' }, '"timestamps" "hour" is not one of cyclic, exclude'],
    [{ timestamps: true }, '"timestamps" true is not one of cyclic, exclude'],
    [{ timeZone: 'Mars/Olympus' }, 'timeZone'],
    [{ features: Array.from({ length: 10_001 }, (_, i) => `c${i}`) }, '"features" lists 10001 columns; at most 10000'],
  ])('refuses a bad column choice non-retryably, naming the field (%#)', (extra, message) => {
    const { message: got, type, nonRetryable } = refusal(() => validateTrainModelInput({ ...base, ...extra }));
    expect(type).toBe('InvalidInput');
    expect(nonRetryable).toBe(true);
    expect(got).toContain(message);
  });

  it('a schema key such as __proto__ is a column name like any other, not an object key trick', () => {
    const valid = validateTrainModelInput(JSON.parse('{"datasetId": "ds_0123456789abcdef", "modelName": "m", "schema": {"__proto__": "category"}}'));
    expect(Object.keys(valid.schema!)).toEqual(['__proto__']);
    expect(refusal(() => resolveFeatures(orders, { schema: valid.schema, timestamps: 'cyclic' })).message).toContain('"schema" names a column not in dataset ds_0123456789abcdef: "__proto__"');
  });
});

describe('trainModel column choice: resolved against the dataset', () => {
  const choice = (input: Record<string, unknown>) => validateFeatureChoice('trainModel', input);

  it('by default takes every typed column but the label, the id and text, with the cell types detection reads', () => {
    expect(resolveFeatures(orders, choice({}))).toEqual({
      featureColumns: ['amount', 'n_items', 'is_gift', 'country', 'created_at'],
      cellTypes: { country: 'category', created_at: 'timestamp' },
    });
  });

  it('applies schema, exclude and timestamps: a text column typed as a category becomes a feature; excluded timestamps are left out', () => {
    expect(resolveFeatures(orders, choice({ schema: { note: 'category', n_items: 'category' }, exclude: ['is_gift'], timestamps: 'exclude' }))).toEqual({
      featureColumns: ['amount', 'n_items', 'country', 'note'],
      cellTypes: { n_items: 'category', country: 'category', note: 'category' },
    });
    expect(resolveFeatures(orders, choice({ schema: { country: 'exclude', created_at: 'number' } }))).toEqual({
      featureColumns: ['amount', 'n_items', 'is_gift', 'created_at'],
      cellTypes: {},
    });
  });

  it('with features, exactly those columns in that order', () => {
    expect(resolveFeatures(orders, choice({ features: ['country', 'amount'] }))).toEqual({ featureColumns: ['country', 'amount'], cellTypes: { country: 'category' } });
  });

  it('a dataset registered before profiles: its feature columns are numbers', () => {
    const old: ProfiledColumns = { id: 'ds_00000000000000aa', columns: ['id', 'a', 'b'], featureColumns: ['a', 'b'], labelColumn: null, idColumn: 'id', columnProfiles: null };
    expect(resolveFeatures(old, choice({}))).toEqual({ featureColumns: ['a', 'b'], cellTypes: {} });
    expect(resolveFeatures(old, choice({ schema: { b: 'category' } }))).toEqual({ featureColumns: ['a', 'b'], cellTypes: { b: 'category' } });
  });

  it('a pinned source: its inferred types decide as a profile does (a column not listed is a number; its id column is never a feature)', () => {
    const source: ProfiledColumns = {
      id: null,
      columns: ['order_id', 'amount', 'is_gift', 'country', 'created_at', 'note'],
      featureColumns: ['amount', 'is_gift', 'country', 'created_at', 'note'],
      idColumn: 'order_id',
      columnTypes: { is_gift: 'boolean', country: 'category', created_at: 'timestamp', note: 'text' },
    };
    expect(resolveFeatures(source, choice({}))).toEqual({ featureColumns: ['amount', 'is_gift', 'country', 'created_at'], cellTypes: { country: 'category', created_at: 'timestamp' } });
    expect(resolveFeatures(source, choice({ schema: { note: 'category' }, timestamps: 'exclude' }))).toEqual({
      featureColumns: ['amount', 'is_gift', 'country', 'note'],
      cellTypes: { country: 'category', note: 'category' },
    });
    expect(refusal(() => resolveFeatures(source, choice({ features: ['amount', 'note'] }))).message).toContain('"features" names "note", a text column');
    expect(refusal(() => resolveFeatures(source, choice({ features: ['order_id'] }))).message).toContain('"features" names "order_id", the dataset\'s id column');
    expect(refusal(() => resolveFeatures(source, choice({ exclude: ['colour'] }))).message).toContain('"exclude" names a column not in the data');
  });

  it('training on a source needs no feature list, but runs recorded before sources had types still refuse one without', () => {
    const onSource = { modelName: 'orders', source: { kind: 'objects', connection: 'lake', bucket: 'sales', prefix: 'dt={date}/', format: 'parquet' }, window: { start: '2026-11-01', end: '2026-11-02' } };
    expect(validateTrainModelInput(onSource).featureColumns).toBeUndefined();
    expect(failureOf(() => validateTrainModelInput(onSource, { detectorOptions: true, sourceFeaturesRequired: true })).message).toContain('"featureColumns" is required to train on a source');
  });

  it.each([
    [{ features: ['amount', 'colour', 'size'] }, '"features" names columns not in dataset ds_0123456789abcdef: "colour", "size" (its columns: order_id, amount'],
    [{ exclude: ['colour'] }, '"exclude" names a column not in dataset'],
    [{ schema: { colour: 'category' } }, '"schema" names a column not in dataset'],
    [{ features: ['amount', 'label'] }, '"features" names "label", the dataset\'s label column: it is never a feature'],
    [{ features: ['order_id'] }, '"features" names "order_id", the dataset\'s id column'],
    [{ schema: { label: 'number' } }, '"schema.label" gives a type to the dataset\'s label column'],
    [{ features: ['amount', 'note'] }, '"features" names "note", a text column: give it a type in "schema"'],
    [{ features: ['created_at'], timestamps: 'exclude' }, '"features" names "created_at", a timestamp column, while "timestamps" is "exclude"'],
    [{ exclude: ['amount', 'n_items', 'is_gift', 'country', 'created_at'] }, '"exclude" leaves no feature column'],
  ])('refuses a choice the dataset cannot meet, naming the field (%#)', (input, message) => {
    const { message: got, type, nonRetryable } = refusal(() => resolveFeatures(orders, choice(input)));
    expect(type).toBe('InvalidInput');
    expect(nonRetryable).toBe(true);
    expect(got).toContain(message);
  });

  it('columns named like Object.prototype members are columns like any other', () => {
    const odd: ProfiledColumns = { id: 'ds_00000000000000bb', columns: ['constructor', 'toString', 'hasOwnProperty'], featureColumns: ['constructor', 'toString'], labelColumn: null, idColumn: null, columnProfiles: null };
    // The schema as an activity receives it: a plain object (with a prototype), not the validator's null-prototype one.
    const schema = JSON.parse('{"toString": "category"}') as Record<string, 'category'>;
    expect(resolveFeatures(odd, { schema, timestamps: 'cyclic' })).toEqual({ featureColumns: ['constructor', 'toString'], cellTypes: { toString: 'category' } });
    expect(refusal(() => resolveFeatures(odd, { features: ['hasOwnProperty'], timestamps: 'cyclic' })).message).toContain('"hasOwnProperty", a text column');
  });

  it('a label may be named in schema only to exclude it (a no-op)', () => {
    expect(resolveFeatures(orders, choice({ schema: { label: 'exclude' } })).featureColumns).toEqual(['amount', 'n_items', 'is_gift', 'country', 'created_at']);
  });
});
