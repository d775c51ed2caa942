/** A backtest's figures, each by its textbook definition, for the strategy and for buy-and-hold of the same sessions. */
import type { DailyBar } from '../plugin/index.js';
import { Holding } from './holding.js';
import type { StrategyRun } from './strategy.js';

const TRADING_DAYS_PER_YEAR = 252;
const DAYS_PER_YEAR = 365.25;
const MS_PER_DAY = 86_400_000;

export interface ReturnMetrics {
  /** Final equity / initial capital − 1. */
  total_return: number;
  /**
   * Compound annual growth rate: (final / initial)^(1 / years) − 1, years = calendar days from the first
   * to the last session / 365.25. Null when both are the same session.
   */
  cagr: number | null;
  /**
   * Annualised Sharpe ratio, risk-free rate 0: mean / sample standard deviation of the daily equity
   * returns × √252. The first return runs from the initial capital to the first close. Null with fewer
   * than two returns or none varying.
   */
  sharpe: number | null;
  /** The largest peak-to-trough fall of the equity curve (initial capital included), as a positive fraction of the peak. */
  max_drawdown: number;
}

export interface EquityCurvePoint {
  date: string;
  strategy: number;
  buy_and_hold: number;
}

export interface BacktestReport extends ReturnMetrics {
  strategy: string;
  symbol: string;
  from: string;
  to: string;
  sessions: number;
  trade_count: number;
  /** Trades with return_pct > 0 / trades; null without trades. */
  win_rate: number | null;
  /** The arithmetic mean of the trades' return_pct; null without trades. */
  average_trade_return: number | null;
  /** Sessions whose close found a position open / sessions. */
  exposure: number;
  /**
   * Buying at the first session's open with all the capital and selling at the last close, paying the
   * run's slippage and commission on both fills, exactly as the strategy does.
   */
  buy_and_hold: ReturnMetrics;
  equity_curve: EquityCurvePoint[];
}

/** `bars` must be the run's sessions, in order: the ones the strategy was marked at. */
export function backtestReport(run: StrategyRun, bars: readonly DailyBar[]): BacktestReport {
  const first = bars[0];
  const last = bars.at(-1);
  if (!first || !last) throw new Error('backtestReport needs at least one session');
  if (bars.length !== run.equity.length || bars.some((bar, i) => bar.date !== run.equity[i]!.date)) {
    throw new Error(`backtestReport: the bars (${bars.length}) are not the run's ${run.equity.length} sessions`);
  }
  const capital = run.options.initialCapital;
  const holding = Holding.open('long', first.open, capital, run.options);
  const buyAndHold = bars.map((bar) => holding.valueAt(bar.close));
  buyAndHold[buyAndHold.length - 1] = holding.closeAt(last.close).cash;
  const strategy = run.equity.map((point) => point.equity);
  const returns = run.trades.map((trade) => trade.return_pct);

  return {
    strategy: run.strategy,
    symbol: run.symbol,
    from: first.date,
    to: last.date,
    sessions: bars.length,
    ...returnMetrics(capital, strategy, first.date, last.date),
    trade_count: returns.length,
    win_rate: returns.length === 0 ? null : returns.filter((r) => r > 0).length / returns.length,
    average_trade_return: returns.length === 0 ? null : mean(returns),
    exposure: run.equity.filter((point) => point.in_market).length / run.equity.length,
    buy_and_hold: returnMetrics(capital, buyAndHold, first.date, last.date),
    equity_curve: bars.map((bar, i) => ({ date: bar.date, strategy: strategy[i]!, buy_and_hold: buyAndHold[i]! })),
  };
}

function returnMetrics(initial: number, equity: readonly number[], from: string, to: string): ReturnMetrics {
  const curve = [initial, ...equity];
  const growth = curve.at(-1)! / initial;
  const years = (Date.parse(to) - Date.parse(from)) / MS_PER_DAY / DAYS_PER_YEAR;
  const daily = curve.slice(1).map((value, i) => value / curve[i]! - 1);
  const deviation = sampleStd(daily);
  let peak = initial;
  let maxDrawdown = 0;
  for (const value of curve) {
    peak = Math.max(peak, value);
    maxDrawdown = Math.max(maxDrawdown, (peak - value) / peak);
  }
  return {
    total_return: growth - 1,
    cagr: years > 0 ? growth ** (1 / years) - 1 : null,
    sharpe: deviation ? (mean(daily) / deviation) * Math.sqrt(TRADING_DAYS_PER_YEAR) : null,
    max_drawdown: maxDrawdown,
  };
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** The sample (n − 1) standard deviation; null below two values. */
function sampleStd(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, value) => sum + (value - m) ** 2, 0) / (values.length - 1));
}

/** A fixed-width table of a report, strategy beside buy-and-hold. */
export function formatReport(report: BacktestReport): string {
  const bh = report.buy_and_hold;
  const rows: Array<[string, string, string]> = [
    ['', 'strategy', 'buy & hold'],
    ['total return', percent(report.total_return), percent(bh.total_return)],
    ['CAGR', percent(report.cagr), percent(bh.cagr)],
    ['Sharpe', fixed(report.sharpe), fixed(bh.sharpe)],
    ['max drawdown', percent(report.max_drawdown), percent(bh.max_drawdown)],
    ['trades', String(report.trade_count), ''],
    ['win rate', percent(report.win_rate), ''],
    ['average trade', percent(report.average_trade_return), ''],
    ['exposure', percent(report.exposure), ''],
  ];
  // Each column as wide as its widest cell, two spaces apart.
  const width = (column: 0 | 1 | 2) => Math.max(...rows.map((row) => row[column].length));
  const [labels, strategy, benchmark] = [width(0), width(1), width(2)];
  const title = `${report.strategy} on ${report.symbol}, ${report.from} to ${report.to} (${report.sessions} sessions)`;
  const lines = rows.map(([label, a, b]) => `${label.padEnd(labels)}  ${a.padStart(strategy)}  ${b.padStart(benchmark)}`.trimEnd());
  return [title, ...lines].join('\n');
}

function percent(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(2)}%`;
}

function fixed(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(2);
}
