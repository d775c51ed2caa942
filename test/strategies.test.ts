import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import type { DailyBar, Signal } from '../plugin/index.js';
import {
  DEFAULT_STRATEGY_OPTIONS,
  LstmLongShort,
  LstmSwing,
  backtestReport,
  formatReport,
  replaySignals,
  type StrategyOptions,
  type StrategyRun,
  type Trade,
} from '../strategies/index.js';
import { levelSignal } from './support/signals.js';
import { spxBars } from './support/spx.js';

/** Costs chosen apart from each other so a swapped or missing one shows: 10 bp commission, 20 bp slippage. */
const OPTIONS: StrategyOptions = { minConfidence: 3, commission: 0.001, slippage: 0.002, maxHoldingSessions: 3, initialCapital: 10_000 };

function bar(date: string, open: number, high: number, low: number, close: number, symbol = 'TEST'): DailyBar {
  return { symbol, date, open, high, low, close, volume: 1000 };
}

const signal = levelSignal;

const swing = (bars: DailyBar[], signals: Signal[], options: Partial<StrategyOptions> = OPTIONS) =>
  replaySignals(new LstmSwing('TEST', options), bars, signals);
const longShort = (bars: DailyBar[], signals: Signal[], options: Partial<StrategyOptions> = OPTIONS) =>
  replaySignals(new LstmLongShort('TEST', options), bars, signals);

/** Numbers in a trade compared to 9 decimals, the rest exactly. */
function trade(fields: Omit<Trade, 'symbol'>): Trade {
  const { entry_price, exit_price, return_pct } = fields;
  return {
    symbol: 'TEST',
    ...fields,
    entry_price: expect.closeTo(entry_price, 9),
    exit_price: expect.closeTo(exit_price, 9),
    return_pct: expect.closeTo(return_pct, 9),
  };
}

const equityOf = (run: StrategyRun) => run.equity.map((p) => [p.date, p.equity, p.in_market]);
const close = (value: number) => expect.closeTo(value, 6);

// A long entered at the 100 open pays 100 × 1.002 = 100.2 and 0.1% commission on it:
// units = 10 000 / (100.2 × 1.001) = 10 000 / 100.3002 ≈ 99.7007. A long leaving at a quote q gets
// q × 0.998, less 0.1%: return = q × 0.998 × 0.999 / 100.3002 − 1.
const LONG_UNITS = 10_000 / 100.3002;
const longReturn = (quote: number) => (quote * 0.998 * 0.999) / 100.3002 - 1;
// A short entered at the 100 open sells at 100 × 0.998 = 99.8: units = 10 000 / (99.8 × 1.001) =
// 10 000 / 99.8998, worth units × (99.8 + (99.8 − price)) marked at a price (the entry commission is
// units × 0.0998). Covering at a quote q buys at x = q × 1.002 and pays 0.1% on it:
// cash = units × (199.6 − 1.001 x).
const SHORT_UNITS = 10_000 / 99.8998;
const shortReturn = (quote: number) => (199.6 - 1.001 * quote * 1.002) / 99.8998 - 1;

/** Signal after the 01-02 close; entry at the 01-03 open of 100. */
const ENTRY_BARS = [bar('2024-01-02', 99, 101, 98, 100), bar('2024-01-03', 100, 103, 99, 102)];

describe('lstm-swing', () => {
  it('buys at the next open with slippage and commission, marks at each close, and closes at the last close', () => {
    const bars = [...ENTRY_BARS, bar('2024-01-04', 102, 104, 101, 103)];
    const run = swing(bars, [signal('2024-01-02', 'BUY', 3, 90, 120)]);
    expect(run.trades).toEqual([
      trade({
        side: 'long', signal_as_of: '2024-01-02', confidence: 3,
        entry_date: '2024-01-03', entry_price: 100.2,
        exit_date: '2024-01-04', exit_price: 103 * 0.998, exit_reason: 'end_of_data',
        return_pct: longReturn(103), sessions_held: 2,
      }),
    ]);
    expect(equityOf(run)).toEqual([
      ['2024-01-02', 10_000, false],
      ['2024-01-03', close(LONG_UNITS * 102), true], // ≈ 10 169.47
      ['2024-01-04', close(10_000 * (1 + longReturn(103))), true], // the last mark is net of the exit's costs
    ]);
    expect(run).toMatchObject({ strategy: 'lstm-swing', symbol: 'TEST', options: OPTIONS });
  });

  // Entered at the 01-03 open (stop 90, take-profit 120); the 01-04 bar decides.
  const exits: Array<[string, DailyBar, Trade['exit_reason'], number]> = [
    ['a low at the stop exits at the stop', bar('2024-01-04', 101, 102, 89, 95), 'stop_loss', 90],
    ['an open below the stop exits at the open (gap)', bar('2024-01-04', 88, 89, 85, 86), 'stop_loss', 88],
    ['a high at the take-profit exits at the take-profit', bar('2024-01-04', 102, 121, 101, 119), 'take_profit', 120],
    ['an open above the take-profit exits at the open (gap)', bar('2024-01-04', 123, 125, 122, 124), 'take_profit', 123],
    ['a bar reaching both levels is assumed to hit the stop first', bar('2024-01-04', 100, 125, 85, 110), 'stop_loss', 90],
    ['an open above the take-profit decides even when the low later breaks the stop', bar('2024-01-04', 123, 124, 85, 90), 'take_profit', 123],
  ];
  it.each(exits)('%s', (_, exitBar, reason, quote) => {
    const run = swing([...ENTRY_BARS, exitBar, bar('2024-01-05', 100, 101, 99, 100)], [signal('2024-01-02', 'STRONG_BUY', 5, 90, 120)]);
    expect(run.trades).toEqual([
      trade({
        side: 'long', signal_as_of: '2024-01-02', confidence: 5,
        entry_date: '2024-01-03', entry_price: 100.2,
        exit_date: '2024-01-04', exit_price: quote * 0.998, exit_reason: reason,
        return_pct: longReturn(quote), sessions_held: 2,
      }),
    ]);
    const cash = 10_000 * (1 + longReturn(quote));
    expect(equityOf(run).slice(2)).toEqual([
      ['2024-01-04', close(cash), false],
      ['2024-01-05', close(cash), false],
    ]);
  });

  it('checks the entry session too: a stop reached on the day of entry exits that day', () => {
    const run = swing([bar('2024-01-02', 99, 101, 98, 100), bar('2024-01-03', 100, 101, 89, 92)], [signal('2024-01-02', 'BUY', 4, 90, 120)]);
    expect(run.trades).toEqual([
      trade({
        side: 'long', signal_as_of: '2024-01-02', confidence: 4,
        entry_date: '2024-01-03', entry_price: 100.2,
        exit_date: '2024-01-03', exit_price: 89.82, exit_reason: 'stop_loss',
        return_pct: longReturn(90), sessions_held: 1,
      }),
    ]);
    expect(run.equity[1]).toEqual({ date: '2024-01-03', equity: close(10_000 * (1 + longReturn(90))), in_market: false });
  });

  it('leaves at the close of the maxHoldingSessions-th session (horizon), ignoring BUYs while long', () => {
    const bars = [
      ...ENTRY_BARS,
      bar('2024-01-04', 102, 104, 101, 103),
      bar('2024-01-05', 103, 106, 102, 105),
      bar('2024-01-08', 105, 106, 104, 104),
    ];
    const run = swing(bars, [signal('2024-01-02', 'BUY', 3, 90, 120), signal('2024-01-03', 'STRONG_BUY', 5, 95, 130)]);
    expect(run.trades).toEqual([
      trade({
        side: 'long', signal_as_of: '2024-01-02', confidence: 3,
        entry_date: '2024-01-03', entry_price: 100.2,
        exit_date: '2024-01-05', exit_price: 105 * 0.998, exit_reason: 'horizon',
        return_pct: longReturn(105), sessions_held: 3,
      }),
    ]);
    const cash = 10_000 * (1 + longReturn(105));
    expect(equityOf(run).slice(3)).toEqual([
      ['2024-01-05', close(cash), true], // filled at this close, so open at it
      ['2024-01-08', close(cash), false],
    ]);
  });

  it('sells at the next open on a SELL signal, whatever its confidence', () => {
    const bars = [...ENTRY_BARS, bar('2024-01-04', 102, 104, 101, 103), bar('2024-01-05', 104, 105, 103, 104)];
    const run = swing(bars, [signal('2024-01-02', 'BUY', 3, 90, 120), signal('2024-01-04', 'SELL', 1, 110, 95)]);
    expect(run.trades).toEqual([
      trade({
        side: 'long', signal_as_of: '2024-01-02', confidence: 3,
        entry_date: '2024-01-03', entry_price: 100.2,
        exit_date: '2024-01-05', exit_price: 104 * 0.998, exit_reason: 'signal',
        return_pct: longReturn(104), sessions_held: 2,
      }),
    ]);
    expect(run.equity[3]).toEqual({ date: '2024-01-05', equity: close(10_000 * (1 + longReturn(104))), in_market: false });
  });

  it.each([
    ['a BUY below minConfidence', signal('2024-01-02', 'BUY', 2, 90, 120)],
    ['a HOLD', signal('2024-01-02', 'HOLD', 5, 90, 120)],
    ['a SELL while flat (long only)', signal('2024-01-02', 'STRONG_SELL', 5, 110, 80)],
  ])('ignores %s', (_, ignored) => {
    const run = swing([...ENTRY_BARS, bar('2024-01-04', 102, 104, 101, 103)], [ignored]);
    expect(run.trades).toEqual([]);
    expect(run.equity.map((p) => [p.equity, p.in_market])).toEqual([[10_000, false], [10_000, false], [10_000, false]]);
  });

  it('refuses look-ahead: a signal not dated before the session it would trade on throws', () => {
    const bus = new EventEmitter();
    new LstmSwing('TEST', OPTIONS).attach(bus);
    bus.emit('host:bar', { bar: ENTRY_BARS[0] });
    bus.emit('lstm:signal', { signal: signal('2024-01-03', 'BUY', 5, 90, 120) });
    expect(() => bus.emit('host:bar', { bar: ENTRY_BARS[1] })).toThrow(
      'lstm-swing TEST: look-ahead — a signal as of 2024-01-03 cannot trade at the 2024-01-03 open',
    );

    const early = new EventEmitter();
    new LstmSwing('TEST', OPTIONS).attach(early);
    early.emit('lstm:signal', { signal: signal('2024-01-02', 'HOLD', 1, 90, 120) });
    expect(() => early.emit('host:bar', { bar: ENTRY_BARS[0] })).toThrow(/look-ahead/);
  });

  it('listens to its own symbol only, and not after detaching', () => {
    const bus = new EventEmitter();
    const strategy = new LstmSwing('TEST', OPTIONS);
    const detach = strategy.attach(bus);
    bus.emit('host:bar', { bar: ENTRY_BARS[0] });
    bus.emit('host:bar', { bar: bar('2024-01-02', 50, 51, 49, 50, 'OTHER') });
    bus.emit('lstm:signal', { signal: signal('2024-01-02', 'BUY', 5, 40, 60, 'OTHER') });
    bus.emit('host:bar', { bar: ENTRY_BARS[1] });
    detach();
    bus.emit('host:bar', { bar: bar('2024-01-04', 102, 104, 101, 103) });
    expect(bus.listenerCount('host:bar') + bus.listenerCount('lstm:signal')).toBe(0);
    expect(strategy.finish(ENTRY_BARS[1]!)).toEqual({
      strategy: 'lstm-swing', symbol: 'TEST', options: OPTIONS, trades: [],
      equity: [{ date: '2024-01-02', equity: 10_000, in_market: false }, { date: '2024-01-03', equity: 10_000, in_market: false }],
    });
  });

  it('fills in the documented defaults and refuses impossible options', () => {
    expect(new LstmSwing('TEST', {}).options).toEqual({ minConfidence: 3, commission: 0.0005, slippage: 0.0005, maxHoldingSessions: 5, initialCapital: 100_000 });
    expect(new LstmSwing('TEST', { minConfidence: 4 }).options).toEqual({ ...DEFAULT_STRATEGY_OPTIONS, minConfidence: 4 });
    expect(() => new LstmSwing('TEST', { maxHoldingSessions: 0 })).toThrow(RangeError);
    expect(() => new LstmSwing('TEST', { slippage: -0.001 })).toThrow(RangeError);
    expect(() => new LstmSwing('TEST', { initialCapital: 0 })).toThrow(RangeError);
  });

  it('finishes only on the last bar it saw', () => {
    const strategy = new LstmSwing('TEST', OPTIONS);
    const bus = new EventEmitter();
    strategy.attach(bus);
    bus.emit('host:bar', { bar: ENTRY_BARS[0] });
    expect(() => strategy.finish(ENTRY_BARS[1]!)).toThrow('finish() needs the last bar seen (2024-01-02), got 2024-01-03');
  });
});

describe('lstm-long-short', () => {
  it('sells short at the next open, marks the short at each close, and covers at the last close', () => {
    const bars = [bar('2024-01-02', 99, 101, 98, 100), bar('2024-01-03', 100, 101, 98, 98), bar('2024-01-04', 98, 99, 96, 97)];
    const run = longShort(bars, [signal('2024-01-02', 'SELL', 4, 110, 80)]);
    expect(run.trades).toEqual([
      trade({
        side: 'short', signal_as_of: '2024-01-02', confidence: 4,
        entry_date: '2024-01-03', entry_price: 99.8,
        exit_date: '2024-01-04', exit_price: 97 * 1.002, exit_reason: 'end_of_data',
        return_pct: shortReturn(97), sessions_held: 2,
      }),
    ]);
    expect(equityOf(run)).toEqual([
      ['2024-01-02', 10_000, false],
      ['2024-01-03', close(SHORT_UNITS * (99.8 + 99.8 - 98)), true], // ≈ 10 170.19: the price fell
      ['2024-01-04', close(10_000 * (1 + shortReturn(97))), true],
    ]);
  });

  // Short from the 01-03 open of 100 (stop 110, take-profit 80); the 01-04 bar decides.
  const exits: Array<[string, DailyBar, Trade['exit_reason'], number]> = [
    ['a high at the stop covers at the stop', bar('2024-01-04', 101, 111, 100, 105), 'stop_loss', 110],
    ['an open above the stop covers at the open (gap)', bar('2024-01-04', 112, 113, 111, 112), 'stop_loss', 112],
    ['a low at the take-profit covers at the take-profit', bar('2024-01-04', 97, 98, 79, 82), 'take_profit', 80],
    ['an open below the take-profit covers at the open (gap)', bar('2024-01-04', 78, 79, 75, 76), 'take_profit', 78],
    ['a bar reaching both levels is assumed to hit the stop first', bar('2024-01-04', 100, 115, 75, 90), 'stop_loss', 110],
  ];
  it.each(exits)('%s', (_, exitBar, reason, quote) => {
    const bars = [bar('2024-01-02', 99, 101, 98, 100), bar('2024-01-03', 100, 101, 99, 100), exitBar];
    const run = longShort(bars, [signal('2024-01-02', 'STRONG_SELL', 3, 110, 80)]);
    expect(run.trades).toEqual([
      trade({
        side: 'short', signal_as_of: '2024-01-02', confidence: 3,
        entry_date: '2024-01-03', entry_price: 99.8,
        exit_date: '2024-01-04', exit_price: quote * 1.002, exit_reason: reason,
        return_pct: shortReturn(quote), sessions_held: 2,
      }),
    ]);
    expect(run.equity[2]).toEqual({ date: '2024-01-04', equity: close(10_000 * (1 + shortReturn(quote))), in_market: false });
  });

  it('covers a short at the close of its maxHoldingSessions-th session (horizon)', () => {
    const bars = [
      bar('2024-01-02', 99, 101, 98, 100),
      bar('2024-01-03', 100, 101, 99, 100),
      bar('2024-01-04', 100, 101, 97, 98),
      bar('2024-01-05', 98, 99, 95, 96),
    ];
    const run = longShort(bars, [signal('2024-01-02', 'SELL', 3, 110, 80)]);
    expect(run.trades).toEqual([
      trade({
        side: 'short', signal_as_of: '2024-01-02', confidence: 3,
        entry_date: '2024-01-03', entry_price: 99.8,
        exit_date: '2024-01-05', exit_price: 96 * 1.002, exit_reason: 'horizon',
        return_pct: shortReturn(96), sessions_held: 3,
      }),
    ]);
  });

  it('reverses on a confident opposite signal: closes and opens the other side at the same next open', () => {
    const bars = [...ENTRY_BARS, bar('2024-01-04', 101, 102, 100, 101), bar('2024-01-05', 101, 102, 99, 100)];
    const run = longShort(bars, [signal('2024-01-02', 'BUY', 4, 90, 120), signal('2024-01-03', 'SELL', 3, 110, 80)]);
    // The long leaves at 101 × 0.998 = 100.798 with cash 10 000 × (1 + longReturn(101)); the short is
    // sold at the same fill. Its return, as for the 100-open short above with 100.798 for 99.8 and
    // 100 × 1.002 for the cover: (2 × 100.798 − 1.001 × 100.2) / (1.001 × 100.798) − 1.
    expect(run.trades).toEqual([
      trade({
        side: 'long', signal_as_of: '2024-01-02', confidence: 4,
        entry_date: '2024-01-03', entry_price: 100.2,
        exit_date: '2024-01-04', exit_price: 100.798, exit_reason: 'signal',
        return_pct: longReturn(101), sessions_held: 1,
      }),
      trade({
        side: 'short', signal_as_of: '2024-01-03', confidence: 3,
        entry_date: '2024-01-04', entry_price: 100.798,
        exit_date: '2024-01-05', exit_price: 100.2, exit_reason: 'end_of_data',
        return_pct: (2 * 100.798 - 1.001 * 100.2) / (1.001 * 100.798) - 1, sessions_held: 2,
      }),
    ]);
    expect(run.equity.map((p) => p.in_market)).toEqual([false, true, true, true]);
  });

  it('only closes on an opposite signal below minConfidence', () => {
    const bars = [...ENTRY_BARS, bar('2024-01-04', 101, 102, 100, 101), bar('2024-01-05', 101, 102, 99, 100)];
    const run = longShort(bars, [signal('2024-01-02', 'BUY', 4, 90, 120), signal('2024-01-03', 'STRONG_SELL', 2, 110, 80)]);
    expect(run.trades.map((t) => [t.side, t.exit_date, t.exit_reason])).toEqual([['long', '2024-01-04', 'signal']]);
    expect(run.equity.map((p) => p.in_market)).toEqual([false, true, false, false]);
  });

  it('trades a long-only signal stream exactly like lstm-swing, and ignores HOLD and same-side signals', () => {
    const bars = [...ENTRY_BARS, bar('2024-01-04', 102, 104, 101, 103), bar('2024-01-05', 103, 121, 102, 119)];
    const signals = [signal('2024-01-02', 'BUY', 3, 90, 120), signal('2024-01-03', 'HOLD', 5, 90, 120), signal('2024-01-04', 'STRONG_BUY', 5, 95, 130)];
    const both = longShort(bars, signals);
    const { strategy, ...rest } = swing(bars, signals);
    expect(both).toEqual({ strategy: 'lstm-long-short', ...rest });
    expect(both.trades.map((t) => [t.signal_as_of, t.exit_reason])).toEqual([['2024-01-02', 'take_profit']]);
    expect(strategy).toBe('lstm-swing');
  });
});

describe('replaySignals', () => {
  it('refuses a signal for a session the bars do not have', () => {
    expect(() => swing(ENTRY_BARS, [signal('2024-01-06', 'BUY', 5, 90, 120)])).toThrow('signal as of 2024-01-06 (TEST) matches no bar');
  });

  it('refuses bars out of date order', () => {
    expect(() => swing([ENTRY_BARS[1]!, ENTRY_BARS[0]!], [])).toThrow('bar 2024-01-02 arrived after 2024-01-03; bars must come in date order');
  });
});

describe('backtestReport', () => {
  const ZERO_COSTS: StrategyOptions = { ...OPTIONS, commission: 0, slippage: 0, initialCapital: 1000 };
  // Sessions a year apart, 2020-01-02 to 2024-01-02: 1461 calendar days, exactly four years of 365.25.
  // Buy-and-hold: 1000 / 100 = 10 units from the 100 open → equity 10 × close.
  const BARS = [
    bar('2020-01-02', 100, 106, 99, 105),
    bar('2021-01-04', 105, 106, 94, 94.5),
    bar('2022-01-03', 94.5, 96, 94, 94.5),
    bar('2023-01-03', 95, 104, 95, 103.95),
    bar('2024-01-02', 104, 125, 104, 124.74),
  ];
  const tradeOf = (entry_date: string, exit_date: string, return_pct: number): Trade => ({
    symbol: 'TEST', side: 'long', signal_as_of: entry_date, confidence: 3, entry_date, entry_price: 100,
    exit_date, exit_price: 100 * (1 + return_pct), exit_reason: 'horizon', return_pct, sessions_held: 2,
  });
  // Session returns from the 1000 start: +10%, −10%, 0, +10%, 0.
  const RUN: StrategyRun = {
    strategy: 'lstm-swing', symbol: 'TEST', options: ZERO_COSTS,
    trades: [tradeOf('2020-01-02', '2021-01-04', -0.01), tradeOf('2023-01-03', '2024-01-02', 0.1)],
    equity: [
      { date: '2020-01-02', equity: 1100, in_market: true },
      { date: '2021-01-04', equity: 990, in_market: true },
      { date: '2022-01-03', equity: 990, in_market: false },
      { date: '2023-01-03', equity: 1089, in_market: true },
      { date: '2024-01-02', equity: 1089, in_market: false },
    ],
  };

  it('computes every figure by its textbook definition', () => {
    const report = backtestReport(RUN, BARS);
    // Strategy: mean 0.02; squared deviations 0.0064 + 0.0144 + 0.0004 + 0.0064 + 0.0004 = 0.028, sample
    // variance 0.028 / 4 = 0.007 → Sharpe 0.02 / √0.007 × √252 = 0.02 × √36000 ≈ 3.7947.
    // Buy-and-hold returns +5%, −10%, 0, +10%, +20%: mean 0.05; squared deviations 0 + 0.0225 + 0.0025 +
    // 0.0025 + 0.0225 = 0.05, variance 0.0125 → Sharpe 0.05 × √(252 / 0.0125) = 0.05 × √20160 ≈ 7.0993.
    // CAGR: growth^(1/4) − 1: 1.089^0.25 − 1 ≈ 2.155%, 1.2474^0.25 − 1 ≈ 5.683%.
    expect(report).toEqual({
      strategy: 'lstm-swing', symbol: 'TEST', from: '2020-01-02', to: '2024-01-02', sessions: 5,
      total_return: close(0.089),
      cagr: close(1.089 ** 0.25 - 1),
      sharpe: close(0.02 * Math.sqrt(36_000)),
      max_drawdown: close(0.1), // 1100 → 990
      trade_count: 2,
      win_rate: 0.5,
      average_trade_return: close(0.045),
      exposure: 0.6,
      buy_and_hold: {
        total_return: close(0.2474),
        cagr: close(1.2474 ** 0.25 - 1),
        sharpe: close(0.05 * Math.sqrt(20_160)),
        max_drawdown: close(0.1), // 1050 → 945
      },
      equity_curve: [
        { date: '2020-01-02', strategy: 1100, buy_and_hold: close(1050) },
        { date: '2021-01-04', strategy: 990, buy_and_hold: close(945) },
        { date: '2022-01-03', strategy: 990, buy_and_hold: close(945) },
        { date: '2023-01-03', strategy: 1089, buy_and_hold: close(1039.5) },
        { date: '2024-01-02', strategy: 1089, buy_and_hold: close(1247.4) },
      ],
    });
  });

  it('charges buy-and-hold the run costs on both fills, and leaves undefined figures null', () => {
    const run: StrategyRun = {
      strategy: 'lstm-swing', symbol: 'TEST', options: OPTIONS, trades: [],
      equity: [{ date: '2024-01-02', equity: 10_000, in_market: false }, { date: '2024-01-03', equity: 10_000, in_market: false }],
    };
    const report = backtestReport(run, [bar('2024-01-02', 100, 105, 99, 104), bar('2024-01-03', 104, 111, 103, 110)]);
    expect(report.equity_curve).toEqual([
      { date: '2024-01-02', strategy: 10_000, buy_and_hold: close(LONG_UNITS * 104) },
      { date: '2024-01-03', strategy: 10_000, buy_and_hold: close(10_000 * (1 + longReturn(110))) },
    ]);
    expect(report.buy_and_hold.total_return).toBeCloseTo((110 * 0.998 * 0.999) / 100.3002 - 1, 12);
    expect(report).toMatchObject({ total_return: 0, cagr: 0, sharpe: null, max_drawdown: 0, trade_count: 0, win_rate: null, average_trade_return: null, exposure: 0 });

    const oneSession = backtestReport({ ...run, equity: run.equity.slice(0, 1) }, [bar('2024-01-02', 100, 105, 99, 104)]);
    expect([oneSession.cagr, oneSession.sharpe, oneSession.buy_and_hold.cagr, oneSession.buy_and_hold.sharpe]).toEqual([null, null, null, null]);
  });

  it('refuses bars that are not the run sessions', () => {
    expect(() => backtestReport(RUN, BARS.slice(1))).toThrow('backtestReport: the bars (4) are not the run\'s 5 sessions');
  });

  it('formats a fixed-width table', () => {
    expect(formatReport(backtestReport(RUN, BARS))).toBe(
      [
        'lstm-swing on TEST, 2020-01-02 to 2024-01-02 (5 sessions)',
        '               strategy  buy & hold',
        'total return      8.90%      24.74%',
        'CAGR              2.15%       5.68%',
        'Sharpe             3.79        7.10',
        'max drawdown     10.00%      10.00%',
        'trades                2',
        'win rate         50.00%',
        'average trade     4.50%',
        'exposure         60.00%',
      ].join('\n'),
    );
  });
});

describe('on the S&P 500 in 2019', async () => {
  const bars = (await spxBars()).filter((b) => b.date.startsWith('2019'));
  const isWeekday = (date: string, day: number) => new Date(`${date}T00:00:00Z`).getUTCDay() === day;
  // Every Monday a BUY (confidence 4) with a stop 3% below the close and a take-profit 2% above it.
  const mondayBuys = bars
    .filter((b) => isWeekday(b.date, 1))
    .map((b) => ({ ...signal(b.date, 'BUY', 4, b.close * 0.97, b.close * 1.02, 'SPX'), current_price: b.close }));
  // Every Thursday a SELL (confidence 4), levels mirrored.
  const thursdaySells = bars
    .filter((b) => isWeekday(b.date, 4))
    .map((b) => ({ ...signal(b.date, 'SELL', 4, b.close * 1.03, b.close * 0.98, 'SPX'), current_price: b.close }));
  const index = new Map(bars.map((b, i) => [b.date, i]));
  const s = DEFAULT_STRATEGY_OPTIONS.slippage;

  function checkInvariants(run: StrategyRun): void {
    expect(run.equity.map((p) => p.date)).toEqual(bars.map((b) => b.date));
    expect(run.equity[0]!.equity).toBe(DEFAULT_STRATEGY_OPTIONS.initialCapital); // 2019-01-02 is a Wednesday: flat
    run.trades.forEach((t, i) => {
      const entry = index.get(t.entry_date)!;
      expect(entry).toBe(index.get(t.signal_as_of)! + 1); // the next session's open
      expect(t.entry_price).toBeCloseTo(bars[entry]!.open * (t.side === 'long' ? 1 + s : 1 - s), 9);
      expect(t.sessions_held).toBeLessThanOrEqual(DEFAULT_STRATEGY_OPTIONS.maxHoldingSessions);
      const previous = run.trades[i - 1];
      // Never two at once: the next entry comes after the exit, or at the same open on a reversal.
      if (previous) expect(t.entry_date > previous.exit_date || (t.entry_date === previous.exit_date && previous.exit_reason === 'signal')).toBe(true);
    });
    const compounded = run.trades.reduce((equity, t) => equity * (1 + t.return_pct), DEFAULT_STRATEGY_OPTIONS.initialCapital);
    expect(run.equity.at(-1)!.equity).toBeCloseTo(compounded, 6);

    const report = backtestReport(run, bars);
    const returns = run.trades.map((t) => t.return_pct);
    expect(report.total_return).toBeCloseTo(compounded / DEFAULT_STRATEGY_OPTIONS.initialCapital - 1, 12);
    expect(report.trade_count).toBe(run.trades.length);
    expect(report.win_rate).toBe(returns.filter((r) => r > 0).length / returns.length);
    expect(report.average_trade_return).toBeCloseTo(returns.reduce((a, b) => a + b, 0) / returns.length, 12);
    // Sessions open at the close: all held, less the exit session of a stop or take-profit.
    const intraday = run.trades.filter((t) => t.exit_reason === 'stop_loss' || t.exit_reason === 'take_profit').length;
    const held = run.trades.reduce((sum, t) => sum + t.sessions_held, 0);
    expect(report.exposure).toBe((held - intraday) / bars.length);
  }

  it('lstm-swing on Monday BUYs', () => {
    const run = replaySignals(new LstmSwing('SPX', {}), bars, mondayBuys);
    checkInvariants(run);
    for (const t of run.trades) {
      const signalled = mondayBuys.find((m) => m.as_of === t.signal_as_of)!;
      // A stop fills at the stop or, on a gap, below it; a take-profit at it or above.
      if (t.exit_reason === 'stop_loss') expect(t.exit_price / (1 - s)).toBeLessThanOrEqual(signalled.stop_loss + 1e-9);
      if (t.exit_reason === 'take_profit') expect(t.exit_price / (1 - s)).toBeGreaterThanOrEqual(signalled.take_profit - 1e-9);
    }
    expect(countBy(run.trades.map((t) => t.exit_reason))).toEqual({ horizon: 30, take_profit: 10, stop_loss: 4 });
    expect(replaySignals(new LstmSwing('SPX', {}), bars, mondayBuys)).toEqual(run); // deterministic
  });

  it('lstm-long-short on Monday BUYs and Thursday SELLs', () => {
    const signals = [...mondayBuys, ...thursdaySells];
    const run = replaySignals(new LstmLongShort('SPX', {}), bars, signals);
    checkInvariants(run);
    expect(countBy(run.trades.map((t) => `${t.side} ${t.exit_reason}`))).toEqual({
      'long signal': 34, 'long take_profit': 7, 'long stop_loss': 2, 'long horizon': 2, 'long end_of_data': 1,
      'short signal': 36, 'short take_profit': 6, 'short stop_loss': 1, 'short horizon': 3,
    });
    expect(replaySignals(new LstmLongShort('SPX', {}), bars, signals)).toEqual(run); // deterministic
  });
});

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
