/**
 * Backtests lstm-swing's rules on grademark, an independent engine, and reports its trades as ours.
 *
 * Costs: grademark has no commission or slippage (its README lists fees and slippage under "maybe
 * coming later"; its trades are priced at the raw open, stop or target). `trades` therefore carry ours,
 * applied to grademark's fills exactly as lstm-swing pays them (`Holding`, all the capital in, compounded
 * from trade to trade); `analysis` is grademark's `analyze` of its own, cost-free trades from
 * `initialCapital`.
 *
 * Where grademark's conventions part from lstm-swing's, on the same bars, signals and options:
 * 1. Gap through a level: when a session opens beyond the stop (or the take-profit), lstm-swing fills at
 *    that open; grademark fills at the level itself. Same session and reason, different price.
 * 2. The entry session is not checked: grademark tests neither the stop, nor the take-profit, nor its
 *    exit rule (a SELL dated on that session, the horizon) on the session it enters, where lstm-swing
 *    tests them all. A position lstm-swing closes that session (or at the next open, on that SELL) runs
 *    on in grademark until a later exit.
 * 3. Horizon: lstm-swing leaves at the close of the `maxHoldingSessions`-th session held (the entry
 *    session counts); grademark's exit rule, asked at that close, can only leave at the next session's
 *    open — after as many sessions held, by our count. When that close is the last bar's, grademark
 *    closes there too, as 'end_of_data'.
 * 4. Grademark asks its entry rule only on sessions it begins flat and does not leave a position on: a
 *    BUY dated on a session it exits (at the open on its exit rule, or at a level), or on the last
 *    session of a horizon it leaves at the next open (3), is not taken; lstm-swing, flat after that
 *    close, buys the next open.
 * Each can change what follows: a position one engine still holds ignores a BUY the other acts on.
 * Everything else agrees: entries at the open after a BUY, stops and take-profits reached within a
 * later session (the stop first when both are), exits at the open after a SELL, positions still open at
 * the last close, and, where the fills agree, the trades' costs and returns.
 */
import { analyze, backtest, type IAnalysis, type ITrade } from 'grademark';
import type { DailyBar, Signal } from '../../plugin/index.js';
import { Holding, LstmSwing, type ExitReason, type StrategyOptions, type Trade } from '../../strategies/index.js';
import { signalBars, signalFrame } from './signal-frame.js';
import { swingStrategy, type RuleExits } from './swing-strategy.js';

export interface GrademarkRun {
  trades: Trade[];
  analysis: IAnalysis;
}

/** Grademark's exit reasons other than its exit rule's, which `RuleExits` resolves. */
const EXIT_REASONS: Readonly<Record<string, ExitReason>> = {
  'stop-loss': 'stop_loss',
  'profit-target': 'take_profit',
  finalize: 'end_of_data',
};

export function runGrademark(symbol: string, bars: readonly DailyBar[], signals: readonly Signal[], options: Partial<StrategyOptions> = {}): GrademarkRun {
  // The options lstm-swing would run with: its defaults filled in, refused where it refuses them.
  const settings = new LstmSwing(symbol, options).options;
  const rows = signalBars(symbol, bars, signals);
  if (rows.length === 0) throw new Error(`runGrademark needs at least one ${symbol} bar`);
  const ruleExits: RuleExits = new Map();
  const fills = backtest(swingStrategy(settings, ruleExits), signalFrame(rows));

  const sessionIndex = new Map(rows.map((row, i) => [row.time.getTime(), i]));
  const sessionOf = (time: Date) => sessionIndex.get(time.getTime())!;
  let capital = settings.initialCapital;
  const trades = fills.map((fill): Trade => {
    const entry = sessionOf(fill.entryTime);
    const exit = sessionOf(fill.exitTime);
    const signal = rows[entry]!.previous_signal!;
    const holding = Holding.open('long', fill.entryPrice, capital, settings);
    const { exit_price, cash } = holding.closeAt(fill.exitPrice);
    const return_pct = cash / capital - 1;
    capital = cash;
    return {
      symbol,
      side: 'long',
      signal_as_of: signal.as_of,
      confidence: signal.confidence,
      entry_date: rows[entry]!.date,
      entry_price: holding.entry_price,
      exit_date: rows[exit]!.date,
      exit_price,
      exit_reason: exitReason(fill, ruleExits),
      return_pct,
      // lstm-swing's count: the sessions checked while held, the entry's included; an exit at an open
      // (grademark's exit rule) comes before its session counts.
      sessions_held: exit - entry + (fill.exitReason === 'exit-rule' ? 0 : 1),
    };
  });
  return { trades, analysis: analyze(settings.initialCapital, fills) };
}

function exitReason(fill: ITrade, ruleExits: RuleExits): ExitReason {
  const reason = fill.exitReason === 'exit-rule' ? ruleExits.get(fill.entryTime.getTime()) : EXIT_REASONS[fill.exitReason];
  if (!reason) throw new Error(`grademark trade entered ${fill.entryTime.toISOString()}: unknown exit reason '${fill.exitReason}'`);
  return reason;
}
