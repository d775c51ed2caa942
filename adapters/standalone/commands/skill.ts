/**
 * `lstm-signals skill --symbol S`: a symbol's skill against the naive baselines — the current model's verdict,
 * what its latest training measured out of sample (holdout and out-of-fold tables, the gate, calibration,
 * conformal coverage, the fallback tiers), what the prediction set has shown live since, and the hit rate per
 * confidence level. Read-only.
 */
import type { Command } from 'commander';
import { configOption, dbOption } from '../options.js';

interface SkillCliOptions {
  symbol: string;
  set?: string;
  db?: string;
  config?: string;
  json?: boolean;
}

export function registerSkillCommand(program: Command): void {
  program
    .command('skill')
    .summary("how a symbol's forecasts did against the naive baselines")
    .description(
      'a symbol’s skill against the naive baselines (majority, momentum, mean reversion, technical, ARIMA): the current model’s verdict, its ' +
        'latest training’s holdout and out-of-fold tables, calibration and conformal coverage, the live skill of a prediction set, and the hit ' +
        'rate per confidence level — every hit rate with its n and 95% interval',
    )
    .requiredOption('--symbol <symbol>', 'symbol')
    .option('--set <name>', 'prediction set (default: the configured prediction_set, live)')
    .addOption(dbOption())
    .addOption(configOption())
    .option('--json', 'print the skill report as JSON')
    .action(async (options: SkillCliOptions) => {
      const [{ withPlugin }, { formatSkillReport }] = await Promise.all([import('../plugin-session.js'), import('../skill-text.js')]);
      const report = await withPlugin({ configFile: options.config, db: options.db, config: { triggers: { enabled: false } }, logLevel: 'error' }, async (plugin) => {
        const stored = await plugin.barCoverage();
        if (!stored.some((c) => c.symbol === options.symbol)) {
          const known = stored.map((c) => c.symbol);
          throw new Error(`skill: no stored bars for ${options.symbol} (stored: ${known.length ? known.join(', ') : 'none'}); ingest or train it first`);
        }
        return plugin.skill(options.symbol, options.set);
      });
      console.log(options.json ? JSON.stringify(report, null, 2) : formatSkillReport(report));
    });
}
