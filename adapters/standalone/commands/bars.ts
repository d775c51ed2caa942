/** `bars check`: validate a bar source (CSV file or folder, MySQL stock_daily table) and report every problem. */
import type { Command } from 'commander';
import type { BarProblem } from '../../../plugin/bar.js';
import { formatBarProblem } from '../../../plugin/bar-validation.js';
import type { BarSource } from '../../bars/source.js';
import { addBarSourceOptions, openBarSource, type BarSourceCliOptions } from '../bar-source-options.js';

export interface SymbolCheck {
  symbol: string;
  /** Rows read from the source. */
  rows: number;
  accepted: number;
  dropped: number;
  /** First and last accepted session; null when nothing was accepted. */
  first: string | null;
  last: string | null;
  /** Strict mode rejected the whole series. */
  rejected: boolean;
  problems: BarProblem[];
}

export interface BarsCheckReport {
  symbols: SymbolCheck[];
}

/** Loads every symbol of `source` and summarises what validation accepted and why it dropped the rest. */
export async function checkBars(source: BarSource): Promise<BarsCheckReport> {
  const symbols: SymbolCheck[] = [];
  for (const symbol of await source.symbols()) {
    const { rows, bars, problems, rejected } = await source.load(symbol);
    symbols.push({
      symbol,
      rows,
      accepted: bars.length,
      dropped: rows - bars.length,
      first: bars[0]?.date ?? null,
      last: bars[bars.length - 1]?.date ?? null,
      rejected,
      problems,
    });
  }
  return { symbols };
}

/** Text report: each symbol's problems, one per line, then its one-line summary. */
export function formatBarsCheck(report: BarsCheckReport): string {
  const lines = report.symbols.flatMap((s) => [
    ...s.problems.map(formatBarProblem),
    `${s.symbol}: read ${s.rows}, accepted ${s.accepted}, dropped ${s.dropped}, ` +
      (s.first === null ? 'no bars' : `${s.first}..${s.last}`) +
      (s.rejected ? ' (rejected: strict mode)' : ''),
  ]);
  return lines.map((line) => `${line}\n`).join('');
}

/** Strict mode fails the run on any problem; default mode has dropped and reported the bad rows, which is a success. */
export function barsCheckExitCode(report: BarsCheckReport): 0 | 1 {
  return report.symbols.some((s) => s.rejected) ? 1 : 0;
}

interface BarsCheckOptions extends BarSourceCliOptions {
  symbol?: string;
  json?: boolean;
}

export function registerBarsCommands(program: Command): void {
  const bars = program.command('bars').description('inspect daily-bar sources');
  const check = bars
    .command('check')
    .description(
      'validate daily bars and report every problem (symbol, date, field, line). Exit code 0 when clean or when bad ' +
        'rows were only dropped; 1 in --strict mode when any problem was found',
    );
  addBarSourceOptions(check)
    .option('--symbol <symbol>', 'check only this symbol; for a single CSV file, the symbol its rows belong to (default: the file name)')
    .option('--json', 'print {symbols: [{symbol, rows, accepted, dropped, first, last, rejected, problems}]} instead of text')
    .action(async function (this: Command, options: BarsCheckOptions) {
      if ((options.data === undefined) === (options.mysqlUrl === undefined)) {
        this.error('bars check: give either --data PATH or --mysql-url URL');
      }
      const source = await openBarSource(options, options.symbol);
      try {
        const report = await checkBars(source);
        const text = options.json ? `${JSON.stringify(report, null, 2)}\n` : formatBarsCheck(report);
        this.configureOutput().writeOut!(text);
        process.exitCode = barsCheckExitCode(report);
      } finally {
        await source.close?.();
      }
    });
}
