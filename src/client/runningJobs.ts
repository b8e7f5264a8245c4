import { NomalyClient } from './nomalyClient';

/**
 * Running workflows that name this dataset or model (NomalyDataset / NomalyModel), as Temporal
 * sees them: a training or detection that has not written its record yet still counts.
 */
export async function runningJobsUsing(filter: { dataset?: string; model?: string }): Promise<string[]> {
  const client = await NomalyClient.connect();
  try {
    return (await client.listJobs(filter, 1000)).filter((j) => j.status === 'RUNNING').map((j) => `${j.workflowType} ${j.workflowId}`);
  } finally {
    await client.close();
  }
}
