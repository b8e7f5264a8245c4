#!/usr/bin/env node
// The `nomaly` command (package.json "bin"): each command group lives in cli/commands/.
import { Command } from 'commander';
import { redactSecrets } from '../config/redaction';
import { registerAnomaliesCommand } from './cli/commands/anomalies';
import { registerBackupCommands } from './cli/commands/backup';
import { registerDatasetCommands } from './cli/commands/datasets';
import { registerDetectCommand } from './cli/commands/detect';
import { registerJobCommands, registerJobListCommand } from './cli/commands/jobs';
import { registerModelCommands } from './cli/commands/models';
import { registerResultCommands } from './cli/commands/results';
import { registerScheduleCommands } from './cli/commands/schedules';
import { registerTrainCommand } from './cli/commands/train';
import { failureMessage } from './nomalyClient';

const program = new Command('nomaly').description('Train anomaly detectors and run detection batch jobs on Temporal').showHelpAfterError();

// The order here is the order of `nomaly --help`.
registerDatasetCommands(program);
registerTrainCommand(program);
registerDetectCommand(program);
registerJobCommands(program);
registerModelCommands(program);
registerJobListCommand(program);
registerResultCommands(program);
registerAnomaliesCommand(program);
registerBackupCommands(program);
registerScheduleCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(redactSecrets(`nomaly: ${failureMessage(err)}`));
  process.exit(1);
});
