/** `lstm-signals features`: print one symbol's feature frame, the rows the LSTM windows are cut from. */
import type { Command } from 'commander';
import { formatBarProblem } from '../../../plugin/bar-validation.js';
import type { FeatureFrame } from '../../../plugin/index.js';
import type { BarSource } from '../../bars/source.js';
import { addBarSourceOptions, openBarSource, type BarSourceCliOptions } from '../bar-source-options.js';
import { BUNDLED_DATA } from '../options.js';

interface FeaturesOptions extends BarSourceCliOptions {
  symbol?: string;
  json?: boolean;
}

/** Fixed-width table: a header, then per session the date and every feature to 6 significant digits. */
export function formatFeatureTable(frame: FeatureFrame): string {
  const header = ['date', ...frame.featureNames];
  const lines = frame.rows.map((row, i) => [frame.dates[i]!, ...row.map((value) => value.toPrecision(6))]);
  const widths = header.map((name, j) => Math.max(name.length, ...lines.map((cells) => cells[j]!.length)));
  // Dates left-aligned, numbers right-aligned so their digits line up.
  const format = (cells: string[]) => cells.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join('  ');
  return [header, ...lines].map((cells) => `${format(cells)}\n`).join('');
}

/** The one symbol to show: `--symbol`, or the source's only symbol. */
async function chooseSymbol(source: BarSource, symbol: string | undefined): Promise<string> {
  if (symbol !== undefined) return symbol;
  const symbols = await source.symbols();
  if (symbols.length !== 1) throw new Error(`the source holds ${symbols.length} symbols (${symbols.join(', ')}): choose one with --symbol`);
  return symbols[0]!;
}

export function registerFeaturesCommand(program: Command): void {
  const features = program
    .command('features')
    .summary("print one symbol's feature frame")
    .description("print one symbol's feature frame (rows after the indicators' warm-up), as a table or JSON");
  addBarSourceOptions(features, BUNDLED_DATA)
    .option('--symbol <symbol>', 'the symbol to show; needed when the source holds several (for a single CSV file, names its rows)')
    .option('--json', 'print {symbol, featureNames, warmup, rows: [{date, close, <feature>: value, ...}]} instead of a table')
    .action(async function (this: Command, options: FeaturesOptions) {
      const source = await openBarSource(options, options.symbol);
      const { buildFeatureFrame, featureFrameToRecords } = await import('../../../plugin/features/frame.js');
      try {
        const symbol = await chooseSymbol(source, options.symbol);
        const { bars, problems, rejected } = await source.load(symbol);
        const output = this.configureOutput();
        // Dropped rows go to stderr, so that stdout stays the frame alone (and valid JSON with --json).
        for (const problem of problems) output.writeErr!(`${formatBarProblem(problem)}\n`);
        if (bars.length === 0) throw new Error(`${symbol}: no valid bars${rejected ? ' (rejected in --strict mode)' : ''}`);
        const frame = buildFeatureFrame(bars);
        const report = { symbol: frame.symbol, featureNames: frame.featureNames, warmup: frame.warmup, rows: featureFrameToRecords(frame) };
        output.writeOut!(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatFeatureTable(frame));
      } finally {
        await source.close?.();
      }
    });
}
