import { Option, type Command } from 'commander';
import { RESULT_FORMATS } from '../../resultsDownload';
import { printResult } from '../output';
import { withClient } from '../withClient';

/** `nomaly results download`: a detection job's scores as a local file. */
export function registerResultCommands(program: Command): void {
  const results = program.command('results').description("a detection job's results (signed links: nomaly status JOB)");
  results
    .command('download')
    .argument('<job>', 'a completed detection job id (nomaly jobs --type detectBatch)')
    .addOption(new Option('--format <format>', 'file format').choices([...RESULT_FORMATS]).default('csv'))
    .option('--out <file>', 'where to write it (default: JOB-scores.csv or .parquet here)')
    .option('--json', 'print JSON')
    .description('write every row\'s score (row, id, score, is_anomaly, and for anomalies p_value and explanation) to a local file; the job\'s scores.csv if it exported one, else built from its scores and dataset')
    .action(async (jobId: string, opts: { format: string; out?: string; json?: boolean }) => {
      const downloaded = await withClient((client) => client.reads.downloadJobScores(jobId, opts), { temporal: 'on-first-use' });
      printResult(opts.json, downloaded, () =>
        console.log(`wrote ${downloaded.file}: ${downloaded.size} bytes, sha256 ${downloaded.sha256} (${downloaded.source === 'exported' ? "the job's scores.csv" : 'built from scores.f64 and the dataset'})`),
      );
    });
}
