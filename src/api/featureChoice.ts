/**
 * Which columns a model learns from, and how each is read: trainModel's `features`, `exclude`,
 * `schema` and `timestamps`, checked for shape in the input (no dataset needed), then resolved
 * against the dataset's profile when the version is reserved (createModelVersion).
 *
 * This module is the input's half and runs in workflows (no data-reading code); the dataset's half
 * is src/api/featureResolution.ts.
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

export function shown(name: string): string {
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

