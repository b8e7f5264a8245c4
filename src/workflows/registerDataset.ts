import type { DatasetSummary } from '../activities';
import { registration } from './activityOptions';
import { validateRegisterDatasetInput, type RegisterDatasetWorkflowInput } from '../api/inputs';

/** An uploaded file becomes a validated, content-addressed dataset record. */
export async function registerDataset(input: RegisterDatasetWorkflowInput): Promise<DatasetSummary> {
  return registration.registerDatasetFile(validateRegisterDatasetInput(input));
}
