/**
 * trainModel's column choice (src/api/featureChoice.ts) resolved against a dataset's profile (or a pinned source's inferred types):
 * the model's feature columns and how each is read. Runs in the activity that reserves the
 * version (it reads registration's types through src/data/schemaInference.ts, which a workflow
 * must not load).
 */
import type { FeatureCellType } from '../data/cellValues';
import type { ColumnProfile } from '../data/profile';
import { readCellType, type ColumnType as ProfiledType } from '../data/schemaInference';
import { shown, type FeatureChoice } from './featureChoice';
import { invalidInput } from './inputs';

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
  /** A pinned source's inferred types (src/sources/snapshotSchema.ts): only the columns that are not numbers. */
  columnTypes?: Readonly<Record<string, ProfiledType>> | null;
}

/** A column's type as training sees it: registration's, or `excluded` (by the schema, or a column registration did not type). */
type ColumnType = ProfiledType | 'excluded';

/** The type registration (or pinning) gave a column (a feature from before profiles, or one a source's types do not list: number; any other column: text). */
function profiledType(dataset: ProfiledColumns, name: string): ColumnType {
  const profile = dataset.columnProfiles?.find((c) => c.name === name);
  if (profile) return profile.role === 'excluded' ? 'text' : profile.type;
  if (dataset.columnTypes && Object.hasOwn(dataset.columnTypes, name)) return dataset.columnTypes[name];
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
    // Own keys only: a column named `constructor` or `toString` is not typed by Object.prototype.
    const override = choice.schema && Object.hasOwn(choice.schema, name) ? choice.schema[name] : undefined;
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
  // fromEntries defines own properties: a column named __proto__ or constructor is a key like any other.
  const cellTypes: Record<string, FeatureCellType> = Object.fromEntries(
    featureColumns.map((name) => [name, cellTypeOf(typeOf(name))!] as const).filter(([, cell]) => cell !== 'number'),
  );
  return { featureColumns, cellTypes };
}
