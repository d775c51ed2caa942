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
    const result = await withPlugin({ configFile: options.config, db: options.db, logLevel: 'error', runsTrainings: true }, async (plugin) => {
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
    program
      .command('alerts')
      .summary('the active alerts of every stored symbol; --fire stores them and posts them to the webhook')
      .description('the active alerts of every stored symbol; --fire stores them, posts them to the webhook and re-sends pending ones that are due (exit 1 when one is left undelivered)')
      .option('--fire', 'store and deliver'),
  ).action(async (options: DatabaseOptions & { fire?: boolean }) => {
    let undelivered = 0;
    await printJson(options, async (plugin) => {
      const result = await plugin.alerts({ fire: Boolean(options.fire), waitForDelivery: true });
      // Still pending (the next process re-sends it) or expired: the caller must know it did not reach the webhook.
      undelivered = [...result.fired, ...result.resent].filter((a) => a.delivery_status === 'pending' || a.delivery_status === 'expired').length;
      return result;
    });
    if (undelivered > 0) {
      console.error(`${undelivered} alert(s) not delivered: see delivery_status and last_error; pending ones are re-sent by the next run`);
      process.exitCode = 1;
    }
  });

  withDatabase(program.command('calibration').description('realised hit rate per confidence level and per grade, per symbol and overall').option('--set <name>', 'prediction set', 'live')).action(
    (options: DatabaseOptions & { set: string }) => printJson(options, (plugin) => plugin.calibration(options.set)),
  );
}
