import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import * as workflows from '../../src/workflows';

/**
 * Replays recorded workflow histories against today's workflow code. A change that would make
 * a running workflow take a different path (non-determinism) fails here, before it ships.
 * Histories are recorded by the integration tests: RECORD_HISTORIES=1 scripts/test.sh tests/integration
 */
const dir = path.join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('workflow replay', () => {
  beforeAll(() => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // installed already in this process
    }
  });

  it('has recorded histories of every workflow type', () => {
    const types = files.map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')).events[0].workflowExecutionStartedEventAttributes.workflowType.name);
    // Every workflow the workers serve (the bundle's exports), so a new one cannot ship unrecorded.
    expect(new Set(types)).toEqual(new Set(Object.keys(workflows)));
  });

  it('replays every recorded history without a determinism error', async () => {
    const fileOf = new Map<string, string>();
    const histories = files.map((f) => {
      const json = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
      // The recorded run's own id: a workflow that names its children after itself (detectBackfill) replays only under it.
      const recordedId: string | undefined = json.events[0].workflowExecutionStartedEventAttributes.workflowId;
      const workflowId = recordedId ?? path.basename(f, '.json');
      fileOf.set(workflowId, f);
      return { workflowId, history: historyFromJSON(json) };
    });
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowsPath: require.resolve('../../src/workflows') }, histories)) {
      replayed += 1;
      if (result.error) failures.push(`${fileOf.get(result.workflowId) ?? result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  });
});
