/** Signals as a fixed-width table for the terminal, and the plain lines that go under it. */
import type { Signal } from '../../plugin/index.js';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** yes: passed the skill gate on its holdout; no: did not (or nothing did: the base rate); n/a: never measured. */
const skillCell = (s: Signal) => (s.skill.shown === null ? 'n/a' : s.skill.shown ? 'yes' : 'no');

export function formatSignalTable(signals: readonly Signal[]): string {
  const header = ['symbol', 'as of', 'data', 'grade', 'conf', 'P(up)', 'exp 5d', 'price', 'stop', 'target', 'risk', 'source', 'skill'];
  const rows = signals.map((s) => [
    s.symbol,
    s.as_of,
    s.stale ? 'STALE' : 'fresh',
    s.grade,
    String(s.confidence),
    pct(s.prob_up),
    pct(s.expected_return_5d),
    s.current_price.toFixed(2),
    s.stop_loss.toFixed(2),
    s.take_profit.toFixed(2),
    s.risk_level,
    s.source,
    skillCell(s),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** "SPX's", "AAA's and SPX's", "AAA's, BBB's and SPX's". */
function possessives(symbols: readonly string[]): string {
  const each = symbols.map((s) => `${s}'s`);
  return each.length === 1 ? each[0]! : `${each.slice(0, -1).join(', ')} and ${each[each.length - 1]}`;
}

export interface SignalNotesOptions {
  /** Where the bars came from, for the stale line: "the bundled data" (the default source) or e.g. "the data". */
  dataName?: string;
}

/**
 * The lines under the weekly table, built from the signals themselves:
 * - one per distinct as-of session of the stale signals (their data_age_days is measured on the run's clock, the
 *   wall clock on the command line: "today");
 * - one per signal whose forecaster has not shown skill, with the signal's own skill summary;
 * - one per signal out of the model's training distribution.
 */
export function formatSignalNotes(signals: readonly Signal[], options: SignalNotesOptions = {}): string {
  const dataName = options.dataName ?? 'the data';
  const lines: string[] = [];
  const staleByAsOf = new Map<string, Signal[]>();
  for (const s of signals.filter((s) => s.stale)) staleByAsOf.set(s.as_of, [...(staleByAsOf.get(s.as_of) ?? []), s]);
  for (const [asOf, group] of [...staleByAsOf].sort(([a], [b]) => a.localeCompare(b))) {
    const days = group[0]!.data_age_days;
    const bar = group.length === 1 ? 'last bar' : 'last bars';
    lines.push(`STALE: these are the signals of ${asOf} (${possessives(group.map((s) => s.symbol))} ${bar}, ${days} days before today); ${dataName} ends there.`);
  }
  for (const s of signals) {
    if (s.skill.shown === true) continue;
    const measuredNotShown = s.skill.shown === false && s.source !== 'base_rate';
    lines.push(`${s.symbol}: ${measuredNotShown ? `${s.source} has not shown skill: ` : ''}${s.skill.summary}`);
  }
  for (const s of signals.filter((s) => s.out_of_distribution)) {
    lines.push(`${s.symbol}: out of distribution (dissimilarity ${s.dissimilarity?.toFixed(2) ?? 'n/a'}): the model has not seen such a market; confidence capped at 1`);
  }
  return lines.map((line) => `${line}\n`).join('');
}
