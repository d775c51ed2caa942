/** Validated daily bars kept by the plugin, so training and backfill read one point-in-time history. */
import { Between, LessThan, LessThanOrEqual, MoreThanOrEqual, type FindOperator } from 'typeorm';
import type { DailyBar } from '../bar.js';
import type { BarRow } from './entities.js';
import type { Store } from './store.js';

const PRICE_FIELDS = ['open', 'high', 'low', 'close', 'volume'] as const;
const INSERT_CHUNK = 500;

/** A stored bar whose values the source now reports differently (a vendor correction). */
export interface BarRevision {
  symbol: string;
  date: string;
  field: (typeof PRICE_FIELDS)[number];
  stored: number;
  incoming: number;
}

export interface BarIngestResult {
  inserted: number;
  revised: number;
  unchanged: number;
  revisions: BarRevision[];
}

/** Only the bar's own fields, whatever else the caller's object carries. */
function toRow(bar: DailyBar): BarRow {
  return { symbol: bar.symbol, date: bar.date, open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume };
}

function dateFilter(range: { from?: string; to?: string }): FindOperator<string> | undefined {
  if (range.from && range.to) return Between(range.from, range.to);
  if (range.from) return MoreThanOrEqual(range.from);
  if (range.to) return LessThanOrEqual(range.to);
  return undefined;
}

export class BarStore {
  constructor(private readonly store: Store) {}

  /**
   * Stores already-validated bars in one transaction: new sessions are inserted, revised ones
   * updated and reported, so a failure leaves the stored history exactly as it was.
   */
  async ingest(bars: DailyBar[]): Promise<BarIngestResult> {
    const result: BarIngestResult = { inserted: 0, revised: 0, unchanged: 0, revisions: [] };
    if (bars.length === 0) return result;
    const bySymbol = new Map<string, DailyBar[]>();
    for (const bar of bars) {
      const list = bySymbol.get(bar.symbol);
      if (list) list.push(bar);
      else bySymbol.set(bar.symbol, [bar]);
    }

    await this.store.transaction(async (manager) => {
      const repo = manager.getRepository(this.store.entities.bar);
      for (const [symbol, incoming] of bySymbol) {
        const dates = incoming.map((b) => b.date).sort();
        const stored = await repo.find({ where: { symbol, date: Between(dates[0]!, dates[dates.length - 1]!) } });
        const storedByDate = new Map(stored.map((row) => [row.date, row]));
        const fresh: BarRow[] = [];
        for (const bar of incoming) {
          const existing = storedByDate.get(bar.date);
          if (!existing) {
            fresh.push(toRow(bar));
            continue;
          }
          const changed = PRICE_FIELDS.filter((field) => existing[field] !== bar[field]);
          if (changed.length === 0) {
            result.unchanged++;
            continue;
          }
          for (const field of changed) result.revisions.push({ symbol, date: bar.date, field, stored: existing[field], incoming: bar[field] });
          await repo.update({ symbol, date: bar.date }, toRow(bar));
          result.revised++;
        }
        for (let i = 0; i < fresh.length; i += INSERT_CHUNK) await repo.insert(fresh.slice(i, i + INSERT_CHUNK));
        result.inserted += fresh.length;
      }
    });
    return result;
  }

  /** Bars for `symbol`, ascending, dated within `from`..`to` inclusive (either end optional). */
  async load(symbol: string, range: { from?: string; to?: string } = {}): Promise<DailyBar[]> {
    const date = dateFilter(range);
    return this.store.repos.bar.find({ where: date ? { symbol, date } : { symbol }, order: { date: 'ASC' } });
  }

  /** The date of the symbol's last stored bar before `date`, if any. */
  async lastDateBefore(symbol: string, date: string): Promise<string | undefined> {
    return (await this.store.repos.bar.findOne({ where: { symbol, date: LessThan(date) }, order: { date: 'DESC' }, select: { date: true } }))?.date;
  }

  /** The stored date range of every symbol. */
  async coverage(): Promise<Array<{ symbol: string; first: string; last: string; sessions: number }>> {
    const rows: Array<{ symbol: string; first: string; last: string; sessions: string | number }> = await this.store.repos.bar
      .createQueryBuilder('b')
      .select('b.symbol', 'symbol')
      .addSelect('MIN(b.date)', 'first')
      .addSelect('MAX(b.date)', 'last')
      .addSelect('COUNT(*)', 'sessions')
      .groupBy('b.symbol')
      .orderBy('b.symbol', 'ASC')
      .getRawMany();
    return rows.map((r) => ({ symbol: r.symbol, first: String(r.first), last: String(r.last), sessions: Number(r.sessions) }));
  }
}
