/**
 * Starting a workflow by name with its input checked by the compiler: the name must be one the
 * workers serve (src/workflows/index.ts) and `args` must fit that workflow's parameters. The
 * import is type-only, so no workflow code is loaded into the client at run time.
 */
import type { Client, WorkflowHandleWithStartDetails, WorkflowStartOptions } from '@temporalio/client';
import type * as workflows from '../workflows';

/** Every workflow the workers serve, by name. */
export type NomalyWorkflows = typeof workflows;
export type WorkflowName = keyof NomalyWorkflows;

export function startWorkflow<N extends WorkflowName>(
  client: Client,
  name: N,
  options: WorkflowStartOptions<NomalyWorkflows[N]>,
): Promise<WorkflowHandleWithStartDetails<NomalyWorkflows[N]>> {
  return client.workflow.start<NomalyWorkflows[N]>(name, options);
}

/** What a schedule's action needs to start a workflow: a served name and its typed arguments. */
export function workflowAction<N extends WorkflowName>(name: N, args: Parameters<NomalyWorkflows[N]>): { workflowType: N; args: Parameters<NomalyWorkflows[N]> } {
  return { workflowType: name, args };
}
