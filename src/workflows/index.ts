// The workflow bundle's entry point: export every workflow type the workers serve.
export { registerDataset } from './registerDataset';
export { trainModel } from './trainModel';
export { detectBatch } from './detectBatch';
export { backup } from './backup';
export { disasterRecovery } from './disasterRecovery';
export { maintenance } from './maintenance';
export { sendAlert } from './sendAlert';
export { verifyBackups } from './verifyBackups';
export { detectBackfill } from './detectBackfill';
