import { InvalidArgumentError } from 'commander';

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

export interface Page {
  limit: number;
  offset: number;
}
