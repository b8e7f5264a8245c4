/**
 * Which columns a model learns from, and how each is read: trainModel's `features`, `exclude`,
 * `schema` and `timestamps`, checked for shape in the input (no dataset needed), then resolved
 * against the dataset's profile when the version is reserved (createModelVersion).
 *
 * A column's type is the profile's (registration infers it) unless `schema` overrides it:
 *   number, integer, boolean   read as numbers (booleans 1/0)
 *   category                   read as category codes; encoded by the model (src/scoring/encoder.ts)
 *   timestamp                  read as epoch milliseconds; hour of day and weekday (cyclic), or
 *                              left out with `timestamps: "exclude"`
 *   exclude                    not a feature
 * A text column (not id, not label) is never a feature unless `schema` gives it a type.
 * Without `features`, every typed column but the label, the id and the excluded ones is a
 * feature, in file order; with it, exactly those columns, in its order.
 */
import type { FeatureCellType } from '../data/cellValues';
import type { ColumnProfile } from '../data/profile';
import { readCellType, type ColumnType as ProfiledType } from '../data/schemaInference';
import { invalidInput, type Json } from './inputs';

export const SCHEMA_TYPES = ['number', 'integer', 'boolean', 'category', 'timestamp', 'exclude'] as const;
export type SchemaType = (typeof SCHEMA_TYPES)[number];
export const TIMESTAMP_POLICIES = ['cyclic', 'exclude'] as const;
export type TimestampPolicy = (typeof TIMESTAMP_POLICIES)[number];
/** Columns a choice may name (the column rules allow fewer per dataset). */
const MAX_NAMED_COLUMNS = 10_000;
const MAX_NAME_CHARS = 1024;

export interface FeatureChoice {
  /** The columns to learn from, in order (trainModel's `features`, or its older `featureColumns`). */
  features?: string[];
  exclude?: string[];
  schema?: Record<string, SchemaType>;
  timestamps: TimestampPolicy;
}

/** The columns and how detection reads each (only non-number ones listed). */
export interface ResolvedFeatures {
  featureColumns: string[];
  cellTypes: Record<string, FeatureCellType>;
}

/** The dataset as registration profiled it (columnProfiles absent on datasets from before profiles: every feature a number). */
export interface ProfiledColumns {
  id: string | null;
  columns: string[];
  featureColumns: string[];
  labelColumn?: string | null;
  idColumn?: string | null;
  columnProfiles?: ColumnProfile[] | null;
}

function shown(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);
}

function nameList(w: string, input: Json, field: string): string[] | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) invalidInput(w, field, 'must be a non-empty list of column names, e.g. ["amount", "country"]');
  if (value.length > MAX_NAMED_COLUMNS) invalidInput(w, field, `lists ${value.length} columns; at most ${MAX_NAMED_COLUMNS}`);
  const seen = new Set<string>();
  value.forEach((name, i) => {
    if (typeof name !== 'string' || name === '') invalidInput(w, `${field}[${i}]`, `must be a column name (a non-empty string), got ${JSON.stringify(name)?.slice(0, 40)}`);
    if (name.length > MAX_NAME_CHARS) invalidInput(w, `${field}[${i}]`, `is ${name.length} characters long; a column name has at most ${MAX_NAME_CHARS}`);
    if (seen.has(name)) invalidInput(w, `${field}[${i}]`, `names ${shown(name)} twice`);
    seen.add(name);
  });
  return value as string[];
}

/** trainModel's column fields, shape only (the dataset's columns are checked when the version is reserved). */
export function validateFeatureChoice(w: string, input: Json): FeatureChoice {
  if (input.features !== undefined && input.featureColumns !== undefined) invalidInput(w, 'features', 'and "featureColumns" name the same thing: give one of them');
  const features = nameList(w, input, 'features') ?? nameList(w, input, 'featureColumns');
  const exclude = nameList(w, input, 'exclude');
  let schema: Record<string, SchemaType> | undefined;
  if (input.schema !== undefined) {
    const raw = input.schema;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).length === 0) {
      invalidInput(w, 'schema', 'must be an object of column → type, e.g. {"country": "category", "created_at": "timestamp", "note": "exclude"}');
    }
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.length > MAX_NAMED_COLUMNS) invalidInput(w, 'schema', `names ${entries.length} columns; at most ${MAX_NAMED_COLUMNS}`);
    schema = Object.create(null) as Record<string, SchemaType>;
    for (const [name, type] of entries) {
      if (name === '' || name.length > MAX_NAME_CHARS) invalidInput(w, 'schema', `has a column name of ${name.length} characters (1 to ${MAX_NAME_CHARS})`);
      if (!SCHEMA_TYPES.includes(type as SchemaType)) invalidInput(w, `schema.${name}`, `${JSON.stringify(type)?.slice(0, 40)} is not one of ${SCHEMA_TYPES.join(', ')}`);
      schema[name] = type as SchemaType;
    }
  }
  const timestamps = input.timestamps ?? 'cyclic';
  if (!TIMESTAMP_POLICIES.includes(timestamps as TimestampPolicy)) invalidInput(w, 'timestamps', `${JSON.stringify(timestamps)?.slice(0, 40)} is not one of ${TIMESTAMP_POLICIES.join(', ')}`);
  const field = input.features !== undefined ? 'features' : 'featureColumns';
  for (const name of features ?? []) {
    if (exclude?.includes(name)) invalidInput(w, 'exclude', `names ${shown(name)}, which "${field}" asks for: a column is a feature or excluded, not both`);
    if (schema?.[name] === 'exclude') invalidInput(w, `schema.${name}`, `is "exclude", but "${field}" asks for ${shown(name)}`);
  }
  return { ...(features ? { features } : {}), ...(exclude ? { exclude } : {}), ...(schema ? { schema } : {}), timestamps: timestamps as TimestampPolicy };
}

/** Is the choice anything but the defaults (so old inputs keep their old path)? */
export function choosesColumns(choice: FeatureChoice): boolean {
  return choice.exclude !== undefined || choice.schema !== undefined || choice.timestamps !== 'cyclic';
}

/** A column's type as training sees it: registration's, or `excluded` (by the schema, or a column registration did not type). */
type ColumnType = ProfiledType | 'excluded';

/** The type registration gave a column (a feature from before profiles: number; any other column from then: text). */
function profiledType(dataset: ProfiledColumns, name: string): ColumnType {
  const profile = dataset.columnProfiles?.find((c) => c.name === name);
  if (profile) return profile.role === 'excluded' ? 'text' : profile.type;
  return dataset.featureColumns.includes(name) ? 'number' : 'text';
}

/** How a column of this type is read as a feature; undefined: it is not one. */
function cellTypeOf(type: ColumnType): FeatureCellType | undefined {
  return type === 'text' || type === 'excluded' ? undefined : readCellType(type);
}

/**
 * The model's feature columns and their cell types for a dataset, or a non-retryable
 * InvalidInput naming the field at fault: an unknown column, the label or id as a feature, a
 * text column without a type, a timestamp asked for while timestamps are excluded, nothing left.
 */
export function resolveFeatures(dataset: ProfiledColumns, choice: FeatureChoice, w = 'trainModel'): ResolvedFeatures {
  const where = dataset.id ? `dataset ${dataset.id}` : 'the data';
  const known = new Set(dataset.columns);
  const columnList = `${dataset.columns.slice(0, 40).join(', ')}${dataset.columns.length > 40 ? ', …' : ''}`;
  const checkKnown = (field: string, names: readonly string[]) => {
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length > 0) invalidInput(w, field, `names ${unknown.length === 1 ? 'a column' : 'columns'} not in ${where}: ${unknown.slice(0, 10).map(shown).join(', ')} (its columns: ${columnList})`);
  };
  const featureField = 'features';
  checkKnown(featureField, choice.features ?? []);
  checkKnown('exclude', choice.exclude ?? []);
  checkKnown('schema', Object.keys(choice.schema ?? {}));
  const roleOf = (name: string) => (name === dataset.labelColumn ? 'label' : name === dataset.idColumn ? 'id' : undefined);
  for (const name of choice.features ?? []) {
    const role = roleOf(name);
    if (role) invalidInput(w, featureField, `names ${shown(name)}, the dataset's ${role} column: it is never a feature`);
  }
  for (const [name, type] of Object.entries(choice.schema ?? {})) {
    const role = roleOf(name);
    if (role && type !== 'exclude') invalidInput(w, `schema.${name}`, `gives a type to the dataset's ${role} column: it is never a feature`);
  }
  const typeOf = (name: string): ColumnType => {
    const override = choice.schema?.[name];
    if (override === 'exclude') return 'excluded';
    return override ?? profiledType(dataset, name);
  };
  let featureColumns: string[];
  if (choice.features) {
    for (const name of choice.features) {
      const type = typeOf(name);
      if (type === 'text') invalidInput(w, featureField, `names ${shown(name)}, a text column: give it a type in "schema" (e.g. {${shown(name)}: "category"}) to learn from it`);
      if (type === 'excluded') invalidInput(w, featureField, `names ${shown(name)}, which registration excluded; give it a type in "schema" to learn from it`);
      if (type === 'timestamp' && choice.timestamps === 'exclude') invalidInput(w, featureField, `names ${shown(name)}, a timestamp column, while "timestamps" is "exclude"`);
    }
    featureColumns = [...choice.features];
  } else {
    const excluded = new Set(choice.exclude ?? []);
    featureColumns = dataset.columns.filter((name) => {
      if (roleOf(name) || excluded.has(name)) return false;
      const cell = cellTypeOf(typeOf(name));
      return cell !== undefined && !(cell === 'timestamp' && choice.timestamps === 'exclude');
    });
  }
  if (featureColumns.length === 0) invalidInput(w, choice.features ? featureField : 'exclude', `leaves no feature column in ${where} (its columns: ${columnList})`);
  const cellTypes: Record<string, FeatureCellType> = {};
  for (const name of featureColumns) {
    const cell = cellTypeOf(typeOf(name))!;
    if (cell !== 'number') cellTypes[name] = cell;
  }
  return { featureColumns, cellTypes };
}
