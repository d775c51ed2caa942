/** `lstm-signals predict`: one symbol's graded signal at its latest (or a given) session. */
import type { Command } from 'commander';
import { addBarSourceOptions, openBarSource, type BarSourceCliOptions } from '../bar-source-options.js';
import { BUNDLED_DATA, dbOption, configOption, isoDate } from '../options.js';

interface PredictCliOptions extends BarSourceCliOptions {
  symbol: string;
  asOf?: string;
  fallback: boolean;
  db?: string;
  config?: string;
  json?: boolean;
}

export function registerPredictCommand(program: Command): void {
  const predict = program
    .command('predict')
    .summary("one symbol's graded signal at the latest (or --as-of) session, logged")
    .description('forecast, grade and log one symbol (LSTM, falling back to ARIMA and technical rules unless --no-fallback)')
    .requiredOption('--symbol <symbol>', 'symbol to predict');
  addBarSourceOptions(predict, BUNDLED_DATA)
    .option('--as-of <date>', 'session to predict at, YYYY-MM-DD (default: the latest bar); later bars are never read', isoDate)
    .option('--no-fallback', 'LSTM only: fail with the reason when the symbol has no healthy model')
    .addOption(dbOption())
    .addOption(configOption())
    .option('--json', 'print { signal, forecast, prediction_id, created } as JSON')
    .action(async (options: PredictCliOptions) => {
      const [{ withPlugin }, { formatSignalTable }] = await Promise.all([import('../plugin-session.js'), import('../signal-table.js')]);
      await withPlugin(
        { source: await openBarSource(options, options.symbol), configFile: options.config, db: options.db, config: { symbols: [options.symbol], strict_bars: Boolean(options.strict) } },
        async (plugin) => {
          const { signal, forecast, logged, created } = await plugin.predict(options.symbol, { asOf: options.asOf, useFallback: options.fallback });
          if (options.json) {
            console.log(JSON.stringify({ signal, forecast, prediction_id: logged.id, created }, null, 2));
            return;
          }
          process.stdout.write(formatSignalTable([signal]));
          for (const { source, reason } of forecast.fallbackReasons) console.log(`fell back past ${source}: ${reason}`);
          const shown = signal.skill.shown === null ? 'never measured' : signal.skill.shown ? 'shown' : 'not shown';
          console.log(`skill of ${signal.source}: ${shown} — ${signal.skill.summary}`);
          if (signal.stale) console.log(`STALE: the signal of ${signal.as_of}, ${signal.data_age_days} days before today`);
          console.log(`expected path 1..5d: ${forecast.expectedReturns.map((r) => `${(r * 100).toFixed(2)}%`).join(' ')}; logged #${logged.id}${created ? '' : ' (already logged)'}`);
        },
      );
    });
}
