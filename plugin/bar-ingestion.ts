/** Feed bars → validation → series checks → store, reported as one `lstm:bars:ingested` payload per symbol batch. */
import type { DailyBar } from './bar.js';
import { backAdjust } from './bar-splits.js';
import { checkSeries, type BarRules } from './bar-series-checks.js';
import { validateBars } from './bar-validation.js';
import { addCalendarDays } from './calendar.js';
import type { BarsIngestedEvent } from './events.js';
import type { BarStore } from './store/bar-store.js';

export interface IngestOptions {
  strict: boolean;
  origin: BarsIngestedEvent['origin'];
  /** Today on the host's clock (`YYYY-MM-DD`): later bars are refused. */
  today: string;
  rules: BarRules;
}

/**
 * The stored bars just before `date` that the series checks continue from: enough for the longest zero-volume
 * run they look for, and at least the one previous bar however long ago it is.
 */
async function storedBefore(barStore: BarStore, symbol: string, date: string, rules: BarRules): Promise<DailyBar[]> {
  const to = addCalendarDays(date, -1);
  // Weekdays to calendar days, with two weeks of holidays to spare.
  const span = Math.ceil(((rules.max_zero_volume_sessions + 1) * 7) / 5) + 14;
  const recent = await barStore.load(symbol, { from: addCalendarDays(date, -span), to });
  return recent.length > 0 ? recent : (await barStore.load(symbol, { to })).slice(-1);
}

export async function ingestBars(barStore: BarStore, symbol: string, bars: DailyBar[], options: IngestOptions): Promise<BarsIngestedEvent> {
  // A platform's feed is not trusted more than a file: the same rules apply to every source.
  const checked = validateBars(symbol, bars, { strict: options.strict, today: options.today });
  const first = checked.bars[0]?.date;
  const before = first === undefined ? [] : await storedBefore(barStore, symbol, first, options.rules);
  let series = checkSeries(symbol, before, checked.bars, options.rules);
  let toStore = checked.bars;
  if (options.rules.adjust_splits && series.splits.length > 0) {
    // Every stored bar before the batch moves to the new price level too; the store reports each as a revision.
    const earlier = await barStore.load(symbol, { to: addCalendarDays(first!, -1) });
    series = checkSeries(symbol, before, checked.bars, options.rules, { earlierBars: earlier.length });
    toStore = backAdjust([...earlier, ...checked.bars], series.splits);
  }
  const stored = await barStore.ingest(toStore);
  return {
    symbol,
    origin: options.origin,
    rows: checked.rows,
    inserted: stored.inserted,
    revised: stored.revised,
    unchanged: stored.unchanged,
    dropped: checked.rows - checked.bars.length,
    rejected: checked.rejected,
    problems: [...checked.problems, ...series.problems],
    revisions: stored.revisions,
  };
}
