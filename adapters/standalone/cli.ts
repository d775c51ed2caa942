#!/usr/bin/env node
/** The `lstm-signals` command line: the standalone host's entry point. */
import { Command, CommanderError } from 'commander';
import { manifest } from '../../plugin/manifest.js';
import { registerBacktestCommand } from './commands/backtest.js';
import { registerBarsCommands } from './commands/bars.js';
import { registerFeaturesCommand } from './commands/features.js';
import { registerHealthCommand } from './commands/health.js';
import { registerIngestCommand } from './commands/ingest.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerMonitoringCommands } from './commands/monitoring.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerQueueCommand } from './commands/queue.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSkillCommand } from './commands/skill.js';
import { registerSpecCommand } from './commands/spec.js';
import { registerTrainCommand } from './commands/train.js';
import { registerVersionCommands } from './commands/versions.js';
import { registerWeeklyCommand } from './commands/weekly.js';
import { registerWorkerCommand } from './commands/worker.js';

const EXIT_CODES = `
Exit codes:
  0  done
  1  done, and the result reports a failure: a symbol failed, a degraded
     weekly run, unhealthy, bars rejected in --strict mode, alerts undelivered
  2  stopped: the command line is wrong (unknown command or option, a bad
     value, a missing file) or an error stopped the work`;

export function buildProgram(): Command {
  const program = new Command('lstm-signals')
    .description(manifest.description)
    .version(manifest.version)
    .showHelpAfterError('(lstm-signals --help lists the commands; lstm-signals COMMAND --help their options)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', EXIT_CODES)
    // Usage errors come back here as a CommanderError, so that they get their own exit code (2), not a failed run's (1).
    .exitOverride();
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
  registerWorkerCommand(program);
  registerQueueCommand(program);
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
  // Commander has already printed its own message (or the help, or the version, which exit 0).
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    console.error(`lstm-signals: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  }
}
