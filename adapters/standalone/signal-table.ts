/** Signals as a fixed-width table for the terminal. */
import type { Signal } from '../../plugin/index.js';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function formatSignalTable(signals: readonly Signal[]): string {
  const header = ['symbol', 'as of', 'grade', 'conf', 'P(up)', 'exp 5d', 'price', 'stop', 'target', 'risk', 'source'];
  const rows = signals.map((s) => [
    s.symbol,
    s.as_of,
    s.grade,
    String(s.confidence),
    pct(s.prob_up),
    pct(s.expected_return_5d),
    s.current_price.toFixed(2),
    s.stop_loss.toFixed(2),
    s.take_profit.toFixed(2),
    s.risk_level,
    s.source,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
