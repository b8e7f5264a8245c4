import type { WorkflowHandle } from '@temporalio/client';
import type { DetectProgress } from '../../workflows/detectBatch';

/** One line of progress for a detection job, e.g. `[#######-------------] 7/20 chunks …`. */
export function renderDetectProgress(p: DetectProgress, width = 24): string {
  const fraction = p.chunksTotal > 0 ? p.chunksDone / p.chunksTotal : 0;
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const rate = p.rowsPerSecond > 0 ? `${Math.round(p.rowsPerSecond).toLocaleString('en-US')} rows/s` : '';
  const eta = p.etaSeconds !== null && p.chunksDone < p.chunksTotal ? `ETA ${formatSeconds(p.etaSeconds)}` : '';
  return [bar, `${p.chunksDone}/${p.chunksTotal} chunks`, `${p.rowsScored.toLocaleString('en-US')}/${p.rowsTotal.toLocaleString('en-US')} rows`, `${p.anomaliesSoFar} anomalies`, rate, eta, p.phase]
    .filter(Boolean)
    .join('  ');
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
}

/** Redraws in place on a terminal; elsewhere (logs, CI) prints a line only when it changes. */
export class ProgressLine {
  private last = '';
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(line: string): void {
    if (line === this.last) return;
    this.last = line;
    if (this.stream.isTTY) this.stream.write(`\r\x1b[2K${line}`);
    else this.stream.write(`${line}\n`);
  }

  done(): void {
    if (this.stream.isTTY && this.last) this.stream.write('\n');
  }
}

/** Waits for a job's result, drawing its `progress` query on one line (stderr) twice a second. */
export async function waitWithProgress<T>(handle: WorkflowHandle, render: (p: unknown) => string): Promise<T> {
  const line = new ProgressLine();
  let finished = false;
  const result = handle.result().finally(() => {
    finished = true;
  });
  while (!finished) {
    const progress = await handle.query('progress').catch(() => undefined);
    if (progress) line.update(render(progress));
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
  }
  line.done();
  return result as Promise<T>;
}
