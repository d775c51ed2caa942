/**
 * Replays recorded signals against a symbol's bars through a real event bus, in the order a live host
 * produces them: each session's bar, then the signals computed after its close.
 */
import { EventEmitter } from 'eventemitter3';
import type { DailyBar, Signal } from '../plugin/index.js';
import type { Strategy, StrategyRun } from './strategy.js';

export function replaySignals(strategy: Strategy, bars: readonly DailyBar[], signals: readonly Signal[]): StrategyRun {
  const lastBar = bars.at(-1);
  if (!lastBar) throw new Error('replaySignals needs at least one bar');
  const sessions = new Set(bars.map((bar) => bar.date));
  const bySession = new Map<string, Signal[]>();
  for (const signal of signals) {
    // A signal for a session the bars don't have would silently never be seen.
    if (!sessions.has(signal.as_of)) throw new Error(`signal as of ${signal.as_of} (${signal.symbol}) matches no bar`);
    bySession.set(signal.as_of, [...(bySession.get(signal.as_of) ?? []), signal]);
  }

  const bus = new EventEmitter();
  const detach = strategy.attach(bus);
  try {
    for (const bar of bars) {
      bus.emit('host:bar', { bar });
      for (const signal of bySession.get(bar.date) ?? []) bus.emit('lstm:signal', { signal });
    }
  } finally {
    detach();
  }
  return strategy.finish(lastBar);
}
