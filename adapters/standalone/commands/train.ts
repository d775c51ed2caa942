/** `lstm-signals train`: train one symbol in full, fast or incremental mode and print the run record. */
import { Option, type Command } from 'commander';
import type { RunSkill, TrainingMode } from '../../../plugin/index.js';
import { describeSkill } from '../../../plugin/skill/skill-table.js';
import { addBarSourceOptions, openBarSource, type BarSourceCliOptions } from '../bar-source-options.js';
import { BUNDLED_DATA, dbOption, configOption, isoDate } from '../options.js';
import { progressPrinter } from '../progress.js';

interface TrainOptions extends BarSourceCliOptions {
  symbol: string;
  mode: TrainingMode;
  start?: string;
  end?: string;
  db?: string;
  config?: string;
  json?: boolean;
}

export function registerTrainCommand(program: Command): void {
  const train = program
    .command('train')
    .summary('train one symbol (full, fast or incremental) and print the run record')
    .description('train a symbol’s model (full: CV grid + holdout gate; fast: 3 folds, one parameter set; incremental: fine-tune the current model)')
    .requiredOption('--symbol <symbol>', 'symbol to train');
  addBarSourceOptions(train, BUNDLED_DATA)
    .addOption(new Option('--mode <mode>', 'training mode').choices(['full', 'fast', 'incremental']).default('fast'))
    .option('--start <date>', 'first session of the training data (YYYY-MM-DD)', isoDate)
    .option('--end <date>', 'last session of the training data (YYYY-MM-DD)', isoDate)
    .addOption(dbOption())
    .addOption(configOption())
    .option('--json', 'print the run record as JSON')
    .action(async (options: TrainOptions) => {
      const { withPlugin } = await import('../plugin-session.js');
      await withPlugin(
        {
          source: await openBarSource(options, options.symbol),
          configFile: options.config,
          runsTrainings: true,
          db: options.db,
          config: { symbols: [options.symbol], strict_bars: Boolean(options.strict) },
          listen: (host) => host.bus.on('lstm:training:progress', progressPrinter()),
        },
        async (plugin) => {
          const outcome = await plugin.train({ symbol: options.symbol, mode: options.mode, start: options.start, end: options.end });
          if (options.json) {
            console.log(JSON.stringify(outcome, null, 2));
          } else {
            const h = outcome.holdout;
            console.log(`version   ${outcome.versionId}`);
            console.log(`deployed  ${outcome.deployed ? 'yes' : 'no'}: ${outcome.reason}`);
            const skill = (outcome.run.metrics_json?.skill as RunSkill | undefined) ?? null;
            // The holdout's figures stand beside the baselines on the same sessions, never alone.
            if (skill) console.log(`skill     ${skill.gate.passed ? 'shown' : 'not shown'}${skill.gate.enabled ? '' : ' (skill gate off)'}: ${describeSkill(skill.holdout)}`);
            if (h) console.log(`holdout   n=${h.n} accuracy=${h.accuracy.toFixed(4)} f1=${h.f1.toFixed(4)} mse=${h.mse.toExponential(3)} mae=${h.mae.toFixed(5)} rmse=${h.rmse.toFixed(5)} direction_accuracy=${h.direction_accuracy.toFixed(4)}`);
            console.log(`run       #${outcome.run.id}, ${outcome.run.duration_seconds.toFixed(1)} s, data ${outcome.run.data_start}..${outcome.run.data_end}`);
          }
        },
      );
    });
}
