#!/usr/bin/env node
/** The `lstm-signals` command line: the standalone host's entry point. */
import { Command } from 'commander';
import { manifest } from '../../plugin/manifest.js';
import { registerBacktestCommand } from './commands/backtest.js';
import { registerBarsCommands } from './commands/bars.js';
import { registerFeaturesCommand } from './commands/features.js';
import { registerHealthCommand } from './commands/health.js';
import { registerIngestCommand } from './commands/ingest.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerMonitoringCommands } from './commands/monitoring.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSkillCommand } from './commands/skill.js';
import { registerSpecCommand } from './commands/spec.js';
import { registerTrainCommand } from './commands/train.js';
import { registerVersionCommands } from './commands/versions.js';
import { registerWeeklyCommand } from './commands/weekly.js';

export function buildProgram(): Command {
  const program = new Command('lstm-signals')
    .description(manifest.description)
    .version(manifest.version)
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true });
  registerWeeklyCommand(program);
  registerPredictCommand(program);
  registerHealthCommand(program);
  registerBacktestCommand(program);
  registerMonitoringCommands(program);
  registerSkillCommand(program);
  registerIngestCommand(program);
  registerMigrateCommand(program);
  registerBarsCommands(program);
  registerFeaturesCommand(program);
  registerTrainCommand(program);
  registerVersionCommands(program);
  registerSpecCommand(program);
  registerServeCommand(program);
  return program;
}

// `lstm-signals features --json | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  console.error(`lstm-signals: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = process.exitCode || 2;
}
