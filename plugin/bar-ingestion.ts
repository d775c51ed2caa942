/** Feed bars → validation → store, reported as one `lstm:bars:ingested` payload per symbol batch. */
import type { DailyBar } from './bar.js';
import { validateBars } from './bar-validation.js';
import type { BarsIngestedEvent } from './events.js';
import type { BarStore } from './store/bar-store.js';

export async function ingestBars(
  barStore: BarStore,
  symbol: string,
  bars: DailyBar[],
  options: { strict: boolean; origin: BarsIngestedEvent['origin'] },
): Promise<BarsIngestedEvent> {
  // A platform's feed is not trusted more than a file: the same rules apply to every source.
  const checked = validateBars(symbol, bars, { strict: options.strict });
  const stored = await barStore.ingest(checked.bars);
  return {
    symbol,
    origin: options.origin,
    rows: checked.rows,
    inserted: stored.inserted,
    revised: stored.revised,
    unchanged: stored.unchanged,
    dropped: checked.rows - checked.bars.length,
    rejected: checked.rejected,
    problems: checked.problems,
    revisions: stored.revisions,
  };
}
