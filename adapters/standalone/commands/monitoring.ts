/** Monitoring from the command line: triggers, status, decay, alerts, calibration. */
import type { Command } from 'commander';
import type { LstmSignalsPlugin } from '../../../plugin/index.js';
import { configOption, dbOption } from '../options.js';

interface DatabaseOptions {
  db?: string;
  config?: string;
}

/** Runs `work` on the plugin over the database only (no bar source), and prints its result as JSON. */
async function printJson(options: DatabaseOptions, work: (plugin: LstmSignalsPlugin) => Promise<unknown>): Promise<void> {
  const { withPlugin } = await import('../plugin-session.js');
  const result = await withPlugin({ configFile: options.config, db: options.db, config: { triggers: { enabled: false } }, logLevel: 'error' }, work);
  console.log(JSON.stringify(result, null, 2));
}

function withDatabase(command: Command): Command {
  return command.addOption(dbOption()).addOption(configOption());
}

export function registerMonitoringCommands(program: Command): void {
  withDatabase(
    program
      .command('check-triggers')
    .summary("what each symbol's latest session asks for; --run trains it")
      .description('what each stored symbol’s latest session asks for (weekly/monthly/quarterly/performance_decay, by priority); --run records it and trains')
      .option('--symbol <symbol>', 'only this symbol')
      .option('--run', 'record the decision and run the training it asks for (waits for it)'),
  ).action(async (options: DatabaseOptions & { symbol?: string; run?: boolean }) => {
    const { withPlugin } = await import('../plugin-session.js');
    const result = await withPlugin({ configFile: options.config, db: options.db, logLevel: 'error' }, async (plugin) => {
      const checks = await plugin.checkTriggers({ symbol: options.symbol, run: Boolean(options.run) });
      await plugin.trainingIdle();
      return options.run ? { checks, queue: await plugin.queueState() } : { checks };
    });
    console.log(JSON.stringify(result, null, 2));
  });

  withDatabase(program.command('status').description('monitoring status per symbol: model, validation, errors, accuracy, decay, failures, queue, backend')).action(
    (options: DatabaseOptions) => printJson(options, (plugin) => plugin.monitoringStatus()),
  );

  withDatabase(
    program
      .command('decay')
      .description('performance decay check: recent mean error vs historical mean × multiplier')
      .requiredOption('--symbol <symbol>', 'symbol')
      .option('--threshold <multiplier>', 'multiplier (default performance_decay_multiplier, 1.5)', Number)
      .option('--n-recent <n>', 'recent accuracy records (default 20)', Number)
      .option('--log', 'store the check in lstm_performance_check'),
  ).action((options: DatabaseOptions & { symbol: string; threshold?: number; nRecent?: number; log?: boolean }) =>
    printJson(options, (plugin) => plugin.detectDecay(options.symbol, { multiplier: options.threshold, nRecent: options.nRecent, log: options.log })),
  );

  withDatabase(
    program.command('alerts').description('the active alerts of every stored symbol; --fire stores them and posts them to the webhook').option('--fire', 'store and deliver'),
  ).action((options: DatabaseOptions & { fire?: boolean }) =>
    printJson(options, (plugin) => plugin.alerts({ fire: Boolean(options.fire), waitForDelivery: true })),
  );

  withDatabase(program.command('calibration').description('realised hit rate per confidence level and per grade, per symbol and overall').option('--set <name>', 'prediction set', 'live')).action(
    (options: DatabaseOptions & { set: string }) => printJson(options, (plugin) => plugin.calibration(options.set)),
  );
}
