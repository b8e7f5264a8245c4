import { InvalidArgumentError } from 'commander';

/** Parsers for option values, shared by every command. */

export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}

export function decimal(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
}

/** `--limit` and `--offset`, the same on every list command. */
export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 1000;

export function listLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIST_LIMIT) throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_LIST_LIMIT}`);
  return n;
}

export function listOffset(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number, 0 or more');
  return n;
}

/** `--param nTrees=200 --param maxTrainRows=5000`: numeric detector options, JSON values allowed. */
export function collectParam(value: string, previous: Record<string, unknown>): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected NAME=VALUE, e.g. nTrees=200');
  const raw = value.slice(eq + 1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = raw;
  }
  return { ...previous, [value.slice(0, eq)]: parsed };
}

export function parseJsonOption(flag: string, text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {
    // fall through to the error below
  }
  throw new InvalidArgumentError(`${flag} must be a JSON object, e.g. '{"nTrees": 200}'`);
}

/** `--features a,b --features c`: column names, comma-separated, repeatable, in order. */
export function collectColumns(value: string, previous: string[] | undefined): string[] {
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new InvalidArgumentError('expected column names separated by commas, e.g. amount,country');
  return [...(previous ?? []), ...names];
}

/** `--column-type country=category --column-type note=exclude`: a column's type, repeatable (the type is checked with the rest of the input). */
export function collectColumnType(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.lastIndexOf('=');
  if (eq <= 0 || eq === value.length - 1) throw new InvalidArgumentError('expected COLUMN=TYPE, e.g. country=category');
  const name = value.slice(0, eq);
  if (previous && Object.prototype.hasOwnProperty.call(previous, name)) throw new InvalidArgumentError(`column "${name}" is given a type twice`);
  return { ...(previous ?? {}), [name]: value.slice(eq + 1) };
}
