import { JOB_TYPES, jobListQuery } from '../../../src/client/jobQuery';
import * as workflows from '../../../src/workflows';

describe('jobListQuery', () => {
  it('lists every kind of job, when nothing is filtered', () => {
    expect(jobListQuery({})).toBe(
      'WorkflowType IN ("trainModel", "detectBatch", "backup", "disasterRecovery", "maintenance", "registerDataset", "verifyBackups", "detectBackfill")',
    );
  });

  it('filters on the workflow type and the search attributes the workflows set', () => {
    expect(jobListQuery({ type: 'detectBatch', model: 'fraud@3', dataset: 'ds_0123abcd', status: 'running' })).toBe(
      'WorkflowType = "detectBatch" AND NomalyModel = "fraud" AND NomalyDataset = "ds_0123abcd" AND NomalyJobStatus = "running"',
    );
  });

  it('refuses an unknown type and any value it could not quote safely', () => {
    expect(() => jobListQuery({ type: 'scoreChunk' })).toThrow(/--type "scoreChunk" is not one of trainModel/);
    expect(() => jobListQuery({ model: 'x" OR WorkflowType = "y' })).toThrow(/--model .* letters, digits/);
    expect(() => jobListQuery({ status: '' })).toThrow(/--status/);
  });

  it('knows every workflow a person can start, and only those', () => {
    const startable = Object.keys(workflows).filter((name) => name !== 'sendAlert'); // detectBatch's child
    expect([...JOB_TYPES].sort()).toEqual(startable.sort());
  });
});
