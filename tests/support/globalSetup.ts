import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startPrivateStack } from '../../scripts/stack/privateStack';
import { quietLogger } from '../../scripts/stack/quietLogger';

/**
 * Brings up a private, real stack for the integration tests: a Temporal dev server (SQLite
 * file), a MinIO server on a fresh data folder, and a fresh PostgreSQL database, all on free
 * ports, through the same scripts/stack-up.sh a user runs. Workers run inside the tests.
 */
export default async function globalSetup(): Promise<void> {
  const root = path.resolve(__dirname, '../..');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-test-'));
  const baseUrl = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  baseUrl.pathname = `/nomaly_test_${Date.now()}_${process.pid}`;
  const stack = await startPrivateStack({
    dataDir,
    databaseUrl: baseUrl.toString(),
    minioUser: 'nomaly-test',
    minioPassword: 'nomaly-test-secret',
    verbose: true,
  });
  const env = { ...stack.env };

  // One workflow bundle for every test worker, instead of a webpack run per test file.
  const bundlePath = path.join(dataDir, 'workflow-bundle.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(root, 'src/workflows/index.ts'), logger: quietLogger });
  writeFileSync(bundlePath, code);
  env.NOMALY_WORKFLOW_BUNDLE = bundlePath;

  Object.assign(process.env, env); // inherited by the jest workers started after this
  writeFileSync(path.join(dataDir, 'test-env.json'), JSON.stringify(env));
}

