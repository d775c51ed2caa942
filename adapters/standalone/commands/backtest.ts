/** `lstm-signals backtest`: a walk-forward run with a simulated clock, or `--replay` of a stored prediction set. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { STRATEGIES, formatReport, type StrategyName } from '../../../strategies/index.js';
import { addBarSourceOptions, openBarSource, type BarSourceCliOptions } from '../bar-source-options.js';
import { readConfigFile } from '../config-file.js';
import { BUNDLED_DATA, configOption, isoDate, symbolList } from '../options.js';
import type { WalkForwardResult } from '../walk-forward.js';

interface BacktestCliOptions extends BarSourceCliOptions {
  from?: string;
  to?: string;
  symbols?: string[];
  mode: 'fast' | 'full';
  name?: string;
  replay?: string;
  db?: string;
  config?: string;
  strategy: StrategyName;
  minConfidence?: number;
  commission?: number;
  slippage?: number;
  json?: boolean;
  progress: boolean;
  progressInterval: number;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('a number of seconds (0 or more)');
  return n;
}

export function registerBacktestCommand(program: Command): void {
  const backtest = program
    .command('backtest')
    .summary('walk-forward backtest, or --replay of a stored prediction set')
    .description(
      'walk-forward backtest: bars released one session at a time, the same triggers retrain on the data available then, every ' +
        'prediction logged under the backtest’s name in a database of its own (default backtests/NAME.sqlite), then the strategy ' +
        'replayed on it. With --replay NAME: verify a stored prediction set and replay the strategy on it, training nothing',
    );
  addBarSourceOptions(backtest, BUNDLED_DATA)
    .option('--from <date>', 'first session of the backtest, YYYY-MM-DD (the initial model is trained on data before it)', isoDate)
    .option('--to <date>', 'last session of the backtest, YYYY-MM-DD', isoDate)
    .option('--symbols <list>', 'comma-separated symbols (default: every symbol of the source)', symbolList)
    .addOption(new Option('--mode <mode>', 'training mode of the initial and triggered full trainings').choices(['fast', 'full']).default('fast'))
    .option('--name <name>', 'the backtest’s name and prediction set (default bt-FROM-TO)')
    .option('--replay <name>', 'replay a stored prediction set instead of running a backtest')
    .option('--db <url>', 'the backtest’s database (default sqlite:backtests/NAME.sqlite)')
    .addOption(configOption())
    .addOption(new Option('--strategy <name>', 'strategy to replay').choices(Object.keys(STRATEGIES)).default('lstm-swing'))
    .option('--min-confidence <n>', 'lowest confidence that opens a position', Number)
    .option('--commission <fraction>', 'commission per side (0.0005 = 5 bp)', Number)
    .option('--slippage <fraction>', 'slippage per side', Number)
    .option('--json', 'print the result as JSON')
    .option('--progress-interval <seconds>', 'least time between two progress lines on stderr (0: every session)', seconds, 5)
    .option('--no-progress', 'print no progress lines on stderr')
    .action(async function (this: Command, options: BacktestCliOptions) {
      const [{ Store }, { replayBacktest }, { formatByConfidence, formatLiveSkill, SKILL_LEGEND }, { defaultBacktestDb, runWalkForward }, { backtestProgress }] = await Promise.all([
        import('../../../plugin/index.js'),
        import('../backtest-replay.js'),
        import('../skill-text.js'),
        import('../walk-forward.js'),
        import('../backtest-progress.js'),
      ]);
      let name = options.replay;
      let walk: WalkForwardResult | undefined;
      if (!name) {
        if (!options.from || !options.to) this.error('backtest: give --from and --to (or --replay NAME)');
        if (options.from! > options.to!) this.error(`backtest: --from ${options.from} is after --to ${options.to}`);
        name = options.name ?? `bt-${options.from}-${options.to}`;
        walk = await runWalkForward({
          source: await openBarSource(options),
          name,
          from: options.from!,
          to: options.to!,
          mode: options.mode,
          ...(options.symbols && { symbols: options.symbols }),
          dbUrl: options.db ?? defaultBacktestDb(name),
          config: await readConfigFile(options.config),
          ...(options.progress && { onProgress: backtestProgress({ intervalSeconds: options.progressInterval }) }),
        });
      }
      const store = await Store.open({ url: options.db ?? defaultBacktestDb(name), migrate: false });
      try {
        const strategyOptions = {
          ...(options.minConfidence !== undefined && { minConfidence: options.minConfidence }),
          ...(options.commission !== undefined && { commission: options.commission }),
          ...(options.slippage !== undefined && { slippage: options.slippage }),
        };
        const result = await replayBacktest(store, name, options.strategy, strategyOptions);
        if (options.json) {
          console.log(JSON.stringify({ ...(walk && { walk_forward: walk }), ...result }, null, 2));
          return;
        }
        if (walk) console.log(`backtest ${walk.name}: ${walk.sessions} sessions ${walk.from}..${walk.to}, database ${walk.db_url}`);
        for (const report of result.reports) {
          const { symbol } = report;
          console.log(formatReport(report).trimEnd());
          console.log('');
          console.log(`the predictions of ${symbol} in set ${name}, against the naive baselines on the same sessions:`);
          console.log(formatLiveSkill(result.skill[symbol]!).join('\n'));
          console.log(formatByConfidence(result.calibration.symbols[symbol]?.by_confidence ?? {}, `predictions of ${symbol} in set ${name}`).join('\n'));
          console.log('');
        }
        console.log(SKILL_LEGEND.join('\n'));
      } finally {
        await store.close();
      }
    });
}
