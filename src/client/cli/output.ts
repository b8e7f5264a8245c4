/** How every command prints: the value as JSON with `--json`, else the command's own text. */
export function printResult(json: boolean | undefined, value: unknown, text: () => void): void {
  if (json) console.log(JSON.stringify(value, null, 2));
  else text();
}

/** A number to `digits` decimals, or `-` when there is none. */
export function fixed(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined ? '-' : value.toFixed(digits);
}

export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
