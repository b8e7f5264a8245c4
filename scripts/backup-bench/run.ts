/**
 * Backup/restore speed benchmark (issue 6, "Speed"): for a generated platform database of
 * BENCH_DB_MB (default 1024) MB, times in one run
 *   (a) pg_dump -Fc to a local file,
 *   (b) the `backup` workflow (scope database) into MinIO,
 *   (c) pg_restore from the local file into a new database, single-transaction and with the
 *       platform's --jobs (NOMALY_RESTORE_JOBS, default 2),
 *   (d) the `disasterRecovery` workflow (scope database) from MinIO,
 * (c) and (d) BENCH_ROUNDS times (default 3, in a rotating order, a CHECKPOINT before each so no
 * restore pays for the previous one's dirty pages); the report gives medians and every round.
 * on a private stack (scripts/stack-up.sh --services-only, own NOMALY_DATA_DIR, fresh database)
 * with control and scoring workers in this process. Throughput = database size / seconds.
 * Writes bench/backup-last-run.md. Tears the stack down and drops its databases afterwards.
 *
 *   npm run bench:backup            # 1 GB
 *   BENCH_DB_MB=100 npm run bench:backup
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { urlForDatabase, withDatabase } from '../../src/backup/pgDatabases';
import { repoRoot } from '../repoRoot';
import { startPrivateStack } from '../stack/privateStack';
import { quietLogger } from '../stack/quietLogger';

const root = repoRoot;
const targetMb = Number(process.env.BENCH_DB_MB ?? 1024);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const MB = 1e6;

function log(message: string): void {
  console.error(`[backup-bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function databaseSize(databaseUrl: string): Promise<number> {
  return withDatabase(databaseUrl, async (c) => Number((await c.query('select pg_database_size(current_database()) as n')).rows[0].n));
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${bin} exited with ${code}: ${stderr.slice(-2000)}`))));
  });
}

/** Generates platform data: datasets, models, detection jobs and ~all of the bytes in `anomaly` rows. */
async function generate(databaseUrl: string, targetBytes: number): Promise<{ rows: Record<string, number>; seconds: number }> {
  const started = Date.now();
  return withDatabase(databaseUrl, async (c) => {
    const jobsPerBatch = 10;
    const rowsPerJob = 50_000;
    await c.query(`insert into dataset (id, name, sha256, object_key, format, size_bytes, rows, columns, feature_columns, label_column, column_profiles)
      select 'ds_bench' || lpad(d::text, 12, '0'), 'bench-dataset-' || d, encode(sha256(('ds' || d)::bytea), 'hex'),
             'datasets/bench-' || d || '.csv', 'csv', 10000000 + d * 1000, 200000,
             '["time","amount","merchant","v1","v2","v3","v4","v5","label"]'::jsonb,
             '["amount","v1","v2","v3","v4","v5"]'::jsonb, 'label',
             jsonb_build_object('amount', jsonb_build_object('min', 0, 'max', 25000, 'mean', 88.3, 'nulls', 0))
        from generate_series(1, 20) d`);
    await c.query(`insert into model (name, version, status, algorithm, params, feature_columns, threshold, dataset_id, dataset_sha256,
             artifact_key, artifact_sha256, train_rows, metrics, training_workflow_id, created_at, trained_at, duration_ms, code_version)
      select 'bench-model-' || (m % 10), m / 10 + 1, 'archived', (array['iforest','hbos','ecod','copod','lof'])[1 + m % 5],
             '{"nEstimators":100,"maxSamples":256,"contamination":0.01}'::jsonb, '["amount","v1","v2","v3","v4","v5"]'::jsonb,
             0.5 + (m % 7) / 100.0, 'ds_bench' || lpad((1 + m % 20)::text, 12, '0'), encode(sha256(('ds' || (1 + m % 20))::bytea), 'hex'),
             'models/bench-model-' || (m % 10) || '/v' || (m / 10 + 1) || '.nmly', null, 200000,
             '{"auc":0.93,"precisionAt100":0.81}'::jsonb, 'train-bench-' || m, now() - interval '30 days', now() - interval '30 days', 4200 + m, 'bench'
        from generate_series(0, 99) m`);
    let jobs = 0;
    for (;;) {
      const size = Number((await c.query('select pg_database_size(current_database()) as n')).rows[0].n);
      if (size >= targetBytes) break;
      // ~190 bytes per anomaly row on disk (heap + three indexes): size the last batch to land near the target.
      const batchJobs = Math.max(1, Math.min(jobsPerBatch, Math.ceil((targetBytes - size) / 190 / rowsPerJob)));
      await c.query('begin');
      await c.query(
        `insert into detection_job (id, model_id, dataset_id, status, rows, chunks, rows_scored, anomalies, anomaly_rate, scores_prefix, started_at, finished_at, duration_ms, summary)
         select 'job-bench-' || lpad(j::text, 6, '0'), 1 + j % 100, 'ds_bench' || lpad((1 + j % 20)::text, 12, '0'), 'completed', $2::int, 20, $2::int, $2::int, 0.01,
                'jobs/job-bench-' || lpad(j::text, 6, '0') || '/scores/', now() - make_interval(mins => j), now() - make_interval(mins => j) + interval '40 seconds', 40000,
                jsonb_build_object('rowsPerSecond', 5000 + j, 'quantiles', jsonb_build_array(0.1, 0.3, 0.5, 0.7, 0.99))
           from generate_series($1::int, $1::int + $3::int - 1) j`,
        [jobs + 1, rowsPerJob, batchJobs],
      );
      await c.query(
        `insert into anomaly (job_id, row_index, score, row_id)
         select 'job-bench-' || lpad(j::text, 6, '0'), i, 0.5 + random() * 0.5, 'txn-' || md5(j::text || ':' || i::text)
           from generate_series($1::int, $1::int + $3::int - 1) j, generate_series(1, $2::int) i`,
        [jobs + 1, rowsPerJob, batchJobs],
      );
      await c.query('commit');
      jobs += batchJobs;
      log(`generated ${jobs} jobs, ${jobs * rowsPerJob} anomaly rows, database ${(size / MB).toFixed(0)} MB before this batch`);
    }
    await c.query('vacuum analyze');
    const rows: Record<string, number> = {};
    for (const t of ['dataset', 'model', 'detection_job', 'anomaly']) rows[t] = Number((await c.query(`select count(*) as n from ${t}`)).rows[0].n);
    return { rows, seconds: (Date.now() - started) / 1000 };
  });
}

/** Other benchmark or jest runs on this machine (they would skew the timings). */
function otherRuns(): string {
  try {
    return execFileSync('bash', ['-c', "pgrep -af 'dist-scripts|jest' | grep -v -e backup-bench -e pgrep || true"]).toString().trim();
  } catch {
    return '';
  }
}

interface ActivityTiming {
  name: string;
  seconds: number;
  result: unknown;
}

/** Start-to-completion of each activity (its last attempt), from the workflow's history. */
async function activityTimings(handle: WorkflowHandle): Promise<ActivityTiming[]> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  const startedAt = new Map<string, number>();
  const timings: ActivityTiming[] = [];
  for (const event of history.events ?? []) {
    const at = tsToMs(event.eventTime!);
    if (event.activityTaskScheduledEventAttributes) scheduled.set(String(event.eventId), event.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    if (event.activityTaskStartedEventAttributes) startedAt.set(String(event.activityTaskStartedEventAttributes.scheduledEventId), at);
    if (event.activityTaskCompletedEventAttributes) {
      const id = String(event.activityTaskCompletedEventAttributes.scheduledEventId);
      const payload = event.activityTaskCompletedEventAttributes.result?.payloads?.[0];
      const result = payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
      timings.push({ name: scheduled.get(id) ?? '?', seconds: (at - (startedAt.get(id) ?? at)) / 1000, result });
    }
  }
  return timings;
}


async function main(): Promise<void> {
  const started = new Date();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-backup-bench-'));
  const baseUrl = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  baseUrl.pathname = `/nomaly_bbench_${Date.now()}_${process.pid}`;
  log(`starting a private stack in ${dataDir}`);
  const stack = await startPrivateStack({ dataDir, databaseUrl: baseUrl.toString(), minioUser: 'nomaly-bench', minioPassword: 'nomaly-bench-secret' });
  Object.assign(process.env, stack.env);
  const databaseUrl = stack.env.DATABASE_URL;
  const platformDb = new URL(databaseUrl).pathname.slice(1);

  // Imported after the environment is set: the config is read from it.
  const { loadConfig } = await import('../../src/config');
  const { openPlatform } = await import('../../src/workers/platform');
  const { createWorker } = await import('../../src/workers/createWorker');
  const { createLogger } = await import('../../src/observability/logging');
  const { NomalyClient } = await import('../../src/client/nomalyClient');
  const pgTools = { ...(await import('../../src/backup/pgDatabases')), ...(await import('../../src/backup/pgTools')) };

  const cleanup: Array<() => Promise<void>> = [];
  const extraDbs = new Set<string>();
  let markdown = '';
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const config = loadConfig();
    const platform = await openPlatform(config, createLogger('warn', 'nomaly-backup-bench'));
    cleanup.push(() => platform.close());
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    cleanup.push(() => connection.close());
    const client = await NomalyClient.connect(config);
    cleanup.push(() => client.close());
    const workers: Array<{ worker: Worker; done: Promise<void> }> = [];
    for (const kind of ['control', 'scoring'] as const) {
      const worker = await createWorker(kind, platform, { connection, namespace: config.temporal.namespace });
      workers.push({ worker, done: worker.run() });
    }
    cleanup.unshift(async () => {
      for (const { worker } of workers) worker.shutdown();
      await Promise.all(workers.map((w) => w.done));
    });

    log(`generating ~${targetMb} MB of platform data in ${platformDb}`);
    const generated = await generate(databaseUrl, targetMb * MB);
    const sizeBytes = await databaseSize(databaseUrl);
    const sizeMb = sizeBytes / MB;
    log(`database ${sizeMb.toFixed(0)} MB (${JSON.stringify(generated.rows)}) in ${generated.seconds.toFixed(0)} s`);

    const version = await pgTools.withDatabase(databaseUrl, pgTools.serverVersion);
    const pgDump = await pgTools.resolvePgBinary('pg_dump', version.major);
    const pgRestore = await pgTools.resolvePgBinary('pg_restore', version.major);
    const { dbname, env: childEnv } = pgTools.childConnection(databaseUrl);
    const toolVersion = execFileSync(pgDump, ['--version']).toString().trim();

    const busyBefore = otherRuns();
    // (a) pg_dump -Fc to a local file
    const dumpFile = path.join(dataDir, 'local.dump');
    log('(a) pg_dump -Fc to a local file');
    let t = Date.now();
    await run(pgDump, ['--format=custom', `--file=${dumpFile}`, `--dbname=${dbname}`], childEnv);
    const localDumpSeconds = (Date.now() - t) / 1000;
    const dumpBytes = statSync(dumpFile).size;
    log(`    ${localDumpSeconds.toFixed(1)} s, ${(dumpBytes / MB).toFixed(0)} MB file`);

    // (b) the backup workflow
    log('(b) backup workflow (scope database)');
    t = Date.now();
    const backupHandle = await client.startBackup({ scope: 'database' });
    const backupResult = (await backupHandle.result()) as { backupId: string; status: string; bytes: number };
    const backupSeconds = (Date.now() - t) / 1000;
    const backupActs = await activityTimings(backupHandle);
    const dumpAct = backupActs.find((a) => a.name === 'dumpDatabase');
    const verifyAct = backupActs.find((a) => a.name === 'verifyBackup');
    log(`    ${backupSeconds.toFixed(1)} s (${backupResult.status}); ${backupActs.map((a) => `${a.name} ${a.seconds.toFixed(1)} s`).join(', ')}`);

    const jobs = config.backup.restoreJobs;
    const checkpoint = () => withDatabase(urlForDatabase(databaseUrl, 'postgres'), (c) => c.query('checkpoint'));
    const median = (xs: number[]) => {
      const v = [...xs].sort((a, b) => a - b);
      return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    };
    const loadBefore = os.loadavg();

    // (c) pg_restore from the local file into a new database: the platform's old flags (single
    // transaction) and the flags it restores with now (--jobs=N, no single transaction).
    const localFlags = ['--no-owner', '--no-privileges', '--exit-on-error'];
    const localVariants = {
      single: [...localFlags, '--single-transaction'],
      jobs: [...localFlags, `--jobs=${jobs}`],
    };
    const localRestoreDb = pgTools.derivedDatabaseName(platformDb, 'localrestore');
    extraDbs.add(localRestoreDb);
    async function localRestore(variant: keyof typeof localVariants): Promise<number> {
      await pgTools.createEmptyDatabase(databaseUrl, localRestoreDb);
      const conn = pgTools.childConnection(pgTools.urlForDatabase(databaseUrl, localRestoreDb));
      await checkpoint();
      const t0 = Date.now();
      await run(pgRestore, [...localVariants[variant], `--dbname=${conn.dbname}`, dumpFile], conn.env);
      const seconds = (Date.now() - t0) / 1000;
      await pgTools.dropDatabaseIfExists(databaseUrl, localRestoreDb);
      return seconds;
    }

    // (d) the disasterRecovery workflow
    interface StagingTimings { createDatabaseSeconds: number; downloadSeconds: number; pgRestoreSeconds: number; pgRestoreJobs: number; rowCountSeconds: number }
    interface RecoveryRound { whole: number; verify: number; staging: number; timings?: StagingTimings; acts: ActivityTiming[]; restoredRows: number | null }
    async function recovery(): Promise<RecoveryRound> {
      await checkpoint();
      const t0 = Date.now();
      const handle = await client.startRecovery({ scope: 'database', backupId: backupResult.backupId });
      const result = (await handle.result()) as { previousDatabase: string | null; restoredRows: number | null };
      const whole = (Date.now() - t0) / 1000;
      // The database it replaced (the previous round's restore) is kept aside by the recovery: drop it now.
      if (result.previousDatabase) await pgTools.dropDatabaseIfExists(databaseUrl, result.previousDatabase);
      const acts = await activityTimings(handle);
      const staging = acts.find((a) => a.name === 'restoreDatabaseToStaging');
      return {
        whole,
        verify: acts.find((a) => a.name === 'verifyBackupForRecovery')?.seconds ?? NaN,
        staging: staging?.seconds ?? NaN,
        timings: (staging?.result as { timings?: StagingTimings } | undefined)?.timings,
        acts,
        restoredRows: result.restoredRows,
      };
    }

    const localSingle: number[] = [];
    const localJobs: number[] = [];
    const recoveries: RecoveryRound[] = [];
    const steps = ['single', 'jobs', 'platform'] as const;
    for (let r = 0; r < rounds; r++) {
      const order = [...steps.slice(r % 3), ...steps.slice(0, r % 3)];
      for (const step of order) {
        if (step === 'platform') {
          log(`(d) round ${r + 1}: disasterRecovery workflow (scope database)`);
          const rec = await recovery();
          recoveries.push(rec);
          log(`    ${rec.whole.toFixed(1)} s; ${rec.acts.map((a) => `${a.name} ${a.seconds.toFixed(1)} s`).join(', ')}; staging ${JSON.stringify(rec.timings)}`);
        } else {
          log(`(c) round ${r + 1}: local pg_restore ${localVariants[step].join(' ')}`);
          const seconds = await localRestore(step);
          (step === 'single' ? localSingle : localJobs).push(seconds);
          log(`    ${seconds.toFixed(1)} s`);
        }
      }
    }
    const loadAfter = os.loadavg();
    const restoredSize = await databaseSize(databaseUrl);
    const restoredRows = recoveries[recoveries.length - 1].restoredRows;
    // Both workflow restore phases also count every table's rows on the restored database: time that on its own.
    t = Date.now();
    await pgTools.withDatabase(databaseUrl, pgTools.tableRowCounts);
    const rowCountSeconds = (Date.now() - t) / 1000;

    const localSingleSeconds = median(localSingle);
    const localJobsSeconds = median(localJobs);
    const stagingSeconds = median(recoveries.map((x) => x.staging));
    const recoverySeconds = median(recoveries.map((x) => x.whole));
    const verifyRecSeconds = median(recoveries.map((x) => x.verify));
    const phase = (k: keyof StagingTimings) => median(recoveries.map((x) => x.timings?.[k] ?? NaN));

    // Report
    const rate = (s: number | undefined) => (s ? sizeMb / s : NaN);
    const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
    const ratio = (s: number | undefined, local: number) => (s ? local / s : NaN);
    const goal = (r: number) => (Number.isFinite(r) ? (r >= 0.8 ? 'met' : 'not met') : 'n/a');
    const busy = [...new Set([...busyBefore.split('\n'), ...otherRuns().split('\n')].filter(Boolean))].join('\n');
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const row = (label: string, seconds: number | undefined, local: number | null, showGoal = local !== null) => {
      const r = local === null ? NaN : ratio(seconds, local);
      return `| ${label} | ${fmt(seconds ?? NaN)} | ${fmt(rate(seconds))} | ${local === null ? '—' : fmt(r, 2) + '×'} | ${showGoal ? goal(r) : '—'} |`;
    };
    const backupDumpRatio = ratio(dumpAct?.seconds, localDumpSeconds);
    const restoreSameFlagsRatio = ratio(stagingSeconds, localJobsSeconds);
    const restoreSingleRatio = ratio(stagingSeconds, localSingleSeconds);
    const list = (xs: number[]) => xs.map((x) => fmt(x)).join(' / ');
    const jobsFlag = `--jobs=${jobs}`;
    markdown = [
      '# Backup / restore benchmark — last run',
      '',
      `- Date: ${started.toISOString()}`,
      `- Machine: ${os.hostname()}, ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`,
      `- PostgreSQL server ${version.version}; tools ${pgDump} / ${pgRestore} (${toolVersion}), as resolved by src/backup/pgTools.ts`,
      `- Command: \`${process.env.BENCH_DB_MB ? `BENCH_DB_MB=${process.env.BENCH_DB_MB} ` : ''}${process.env.BENCH_ROUNDS ? `BENCH_ROUNDS=${process.env.BENCH_ROUNDS} ` : ''}${process.env.NOMALY_RESTORE_JOBS ? `NOMALY_RESTORE_JOBS=${process.env.NOMALY_RESTORE_JOBS} ` : ''}npm run bench:backup\` (platform restores with NOMALY_RESTORE_JOBS=${jobs})`,
      `- Database: ${fmt(sizeMb, 0)} MB (pg_database_size; MB = 10^6 bytes) — ${Object.entries(generated.rows).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')} rows; generated in ${fmt(generated.seconds, 0)} s`,
      `- Dump (-Fc, default compression): local file ${fmt(dumpBytes / MB, 0)} MB; backup object ${fmt(backupResult.bytes / MB, 0)} MB (backup ${backupResult.backupId}, ${backupResult.status})`,
      `- Restored database after the recoveries: ${fmt(restoredSize / MB, 0)} MB, ${restoredRows?.toLocaleString('en-US')} rows`,
      `- Machine load: load average (1/5/15 min) ${loadBefore.map((x) => x.toFixed(1)).join('/')} before the restores, ${loadAfter.map((x) => x.toFixed(1)).join('/')} after; ` +
        `${busy ? `NOT quiet — other runs during the measurement: ${busy.split('\n').slice(0, 6).map((l) => `\`${l.slice(0, 90)}\``).join('; ')}` : 'no other benchmark or jest run seen'}`,
      '',
      `Throughput = database size / seconds. Ratio = local tool seconds / platform seconds (goal ≥ 0.8×). Restores: median of ${rounds} rounds (every round below), each after a CHECKPOINT, in a rotating order.`,
      '',
      '| Step | Seconds | MB/s | Ratio vs local | Goal ≥ 0.8× |',
      '| --- | ---: | ---: | ---: | --- |',
      row('(a) `pg_dump -Fc` → local file', localDumpSeconds, null),
      row('(b) backup: `dumpDatabase` activity (snapshot row counts + pg_dump → MinIO + publish)', dumpAct?.seconds, localDumpSeconds),
      row(`(b) backup: \`verifyBackup\` activity (download + pg_restore ${jobsFlag} into a scratch db + row counts)`, verifyAct?.seconds, null),
      row('(b) backup workflow, whole (dump + verify + manifest + retention)', backupSeconds, localDumpSeconds, false),
      row('(c) local `pg_restore --single-transaction` ← local file → new database', localSingleSeconds, null),
      row(`(c) local \`pg_restore ${jobsFlag}\` ← local file → new database (the platform's flags)`, localJobsSeconds, null),
      row('(d) recovery: `verifyBackupForRecovery` (sha256 of the stored dump)', verifyRecSeconds, null),
      row(`(d) recovery: \`restoreDatabaseToStaging\` vs local \`pg_restore ${jobsFlag}\` (same flags)`, stagingSeconds, localJobsSeconds),
      row('(d) recovery: `restoreDatabaseToStaging` vs local `pg_restore --single-transaction`', stagingSeconds, localSingleSeconds),
      row(`(d) of which: create staging db (overlaps the download) / download + sha256 to a temp file / pg_restore ${jobsFlag} / row counts`, NaN, null)
        .replace('| n/a | n/a |', `| ${fmt(phase('createDatabaseSeconds'), 2)} / ${fmt(phase('downloadSeconds'), 2)} / ${fmt(phase('pgRestoreSeconds'), 2)} / ${fmt(phase('rowCountSeconds'), 2)} | |`),
      row('(d) per-table row counts of the restored database, timed again separately', rowCountSeconds, null),
      row(`(d) disasterRecovery workflow, whole (verify + restore + swap + record) vs local \`pg_restore ${jobsFlag}\``, recoverySeconds, localJobsSeconds, false),
      '',
      `Goal status: backup (dump+upload phase vs \`pg_dump -Fc\`) ${goal(backupDumpRatio)} at ${fmt(backupDumpRatio, 2)}×; ` +
        `restore (\`restoreDatabaseToStaging\` vs local \`pg_restore\` with the same flags, ${jobsFlag}) ${goal(restoreSameFlagsRatio)} at ${fmt(restoreSameFlagsRatio, 2)}× ` +
        `(vs local single-transaction \`pg_restore\`: ${fmt(restoreSingleRatio, 2)}×). ` +
        `Whole workflows: backup ${fmt(ratio(backupSeconds, localDumpSeconds), 2)}× of \`pg_dump\`, recovery ${fmt(ratio(recoverySeconds, localJobsSeconds), 2)}× of \`pg_restore ${jobsFlag}\`.`,
      '',
      `Rounds (seconds): local single-transaction ${list(localSingle)}; local ${jobsFlag} ${list(localJobs)}; restoreDatabaseToStaging ${list(recoveries.map((x) => x.staging))}; disasterRecovery ${list(recoveries.map((x) => x.whole))}.`,
      '',
      'Notes: the backup workflow always verifies by restoring the dump into a scratch database, so the whole workflow costs about a dump plus a restore; ' +
        'the phase comparable to `pg_dump` is the `dumpDatabase` activity (timed start to completion from the workflow history). ' +
        'The recovery verifies every object\'s sha256 before touching anything (`verifyBackupForRecovery`); the phase comparable to `pg_restore` is `restoreDatabaseToStaging`, which ' +
        'creates the staging database while it downloads the dump to a temp file and checks its sha256 again, then runs pg_restore on the file and counts every table\'s rows. ' +
        `Both sides use \`--no-owner --no-privileges --exit-on-error\`; the platform adds \`${jobsFlag}\` (no single transaction: a failed restore only drops the staging database, which is never swapped in). ` +
        'The local baselines restore the file `pg_dump --file` wrote (with data offsets), the platform the one it downloaded (written by pg_dump to a pipe, without them); ' +
        'their database creation and the CHECKPOINT are outside their timing, and they do not count rows. MinIO, the dump files and PostgreSQL share one disk.',
      '',
      'Activity timings (start → completion of the last attempt; recovery: the median round):',
      '',
      `- backup: ${backupActs.map((a) => `${a.name} ${fmt(a.seconds, 2)} s`).join(', ')}`,
      `- disasterRecovery: ${[...recoveries].sort((a, b) => a.staging - b.staging)[Math.floor((recoveries.length - 1) / 2)].acts.map((a) => `${a.name} ${fmt(a.seconds, 2)} s`).join(', ')}`,
      '',
    ].join('\n');
    console.log(markdown);
    mkdirSync(path.join(root, 'bench'), { recursive: true });
    writeFileSync(path.join(root, 'bench/backup-last-run.md'), markdown);
    log('wrote bench/backup-last-run.md');
  } finally {
    for (const step of cleanup) await step().catch((err: Error) => log(`cleanup: ${err.message}`));
    log('dropping the databases and tearing the stack down');
    await withDatabase(urlForDatabase(databaseUrl, 'postgres'), async (c) => {
      const { rows } = await c.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${platformDb.slice(0, 40)}%`]);
      const names = new Set([platformDb, ...extraDbs, ...rows.map((r) => r.datname)]);
      for (const name of names) await c.query(`drop database if exists "${name.replace(/"/g, '""')}" with (force)`);
      log(`dropped ${[...names].join(', ')}`);
    }).catch((err: Error) => log(`dropping databases: ${err.message}`));
    stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
