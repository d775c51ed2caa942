/** `lstm-signals weekly`: the weekly signal run a trading manager schedules. */
import type { Command } from 'commander';
import { addBarSourceOptions, openBarSource, type BarSourceCliOptions } from '../bar-source-options.js';
import { BUNDLED_DATA, symbolList, dbOption, configOption } from '../options.js';
import { progressPrinter } from '../progress.js';

interface WeeklyCliOptions extends BarSourceCliOptions {
  symbols?: string[];
  forceRetrain?: boolean;
  output?: string;
  db?: string;
  config?: string;
  json?: boolean;
}

/** What the stale line calls the bars' source. */
function dataName(options: WeeklyCliOptions): string {
  if (options.mysqlUrl !== undefined) return `the table ${options.table ?? 'stock_daily'}`;
  return options.data === BUNDLED_DATA ? 'the bundled data' : `the data in ${options.data}`;
}

export function registerWeeklyCommand(program: Command): void {
  const weekly = program
    .command('weekly')
    .summary('retrain where stale, predict every symbol, write the signals, status, Excel and log files')
    .description(
      'the weekly run: for each symbol retrain when its model is missing or older than weekly.cache_days (or --force-retrain), ' +
        'predict, grade and log; write weekly_trading_signals/weekly_signals_*.json, weekly_trading_signals/lstm_status.json, ' +
        'result/lstm_weekly_report_*.xlsx and logs/weekly_runner_*.log. The table says which signals are STALE (data older than ' +
        'signals.max_data_age_days on the wall clock) and whether each forecaster has shown skill. Exit 1 when any symbol failed ' +
        '(the others still run); stale or unskilled signals are no failure',
    );
  addBarSourceOptions(weekly, BUNDLED_DATA)
    .option('--symbols <list>', 'comma-separated symbols (default: every symbol of the source)', symbolList)
    .option('--force-retrain', 'retrain every symbol whatever its model’s age')
    .option('--output <dir>', 'folder for the output files (default: weekly.output_dir, ".")')
    .addOption(dbOption())
    .addOption(configOption())
    .option('--json', 'print the run result as JSON')
    .action(async (options: WeeklyCliOptions) => {
      const [{ withPlugin }, { formatSignalNotes, formatSignalTable }] = await Promise.all([import('../plugin-session.js'), import('../signal-table.js')]);
      const result = await withPlugin(
        {
          source: await openBarSource(options),
          configFile: options.config,
          runsTrainings: true,
          db: options.db,
          config: { symbols: options.symbols ?? [], strict_bars: Boolean(options.strict), ...(options.output && { weekly: { output_dir: options.output } }) },
          logLevel: 'error',
          listen: (host) => host.bus.on('lstm:training:progress', progressPrinter()),
        },
        (plugin) => plugin.runWeeklyAnalysis({ forceRetrain: Boolean(options.forceRetrain), ...(options.symbols && { symbols: options.symbols }) }),
      );
      if (options.json) {
        console.log(JSON.stringify(result, null, 2));
      } else {
        for (const r of result.not_retrained) {
          console.log(`${r.symbol}: not retrained: its latest training's data ended ${r.latest_data_end}, ${r.age_days} days before its latest bar (within weekly.cache_days; --force-retrain retrains)`);
        }
        if (result.signals.length > 0) process.stdout.write(formatSignalTable(result.signals));
        // Said plainly under the table: stale signals (the session they are of, and how old), unskilled forecasters.
        process.stdout.write(formatSignalNotes(result.signals, { dataName: dataName(options) }));
        // Each failure was said once already, on stderr as it happened: here only who failed.
        const failed = result.failures.length > 0 ? ` (${result.failures.map((f) => f.symbol).join(', ')})` : '';
        console.log(`status ${result.status}: ${result.total_stocks_analyzed} signal(s), ${result.failures.length} failure(s)${failed}`);
        if (result.signals.length === 0) console.log('no signal: the signals JSON and the Excel report are not written');
        for (const [what, file] of Object.entries(result.files_generated)) if (file) console.log(`${what.padEnd(11)} ${file}`);
      }
      // A corrupted current model (degraded) is a failure to report too, even though a retraining or a fallback answered.
      if (result.failures.length > 0 || result.status === 'degraded') process.exitCode = 1;
    });
}
