/**
 * The benchmark universe as a folder of CSV files, the way a user hands bars to `lstm-signals weekly --data DIR`:
 * the bundled S&P 500 series plus seeded synthetic symbols on the same session calendar.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CsvBarSource } from '../../adapters/bars/csv.js';
import { BUNDLED_DATA } from '../../adapters/standalone/options.js';
import type { DailyBar } from '../../plugin/index.js';
import { syntheticBars } from './synthetic-bars.js';

/** Seeds of the synthetic symbols are UNIVERSE_SEED + their number: the same universe on every run. */
const UNIVERSE_SEED = 20_260_000;

export interface Universe {
  dir: string;
  symbols: string[];
  sessions: number;
  from: string;
  to: string;
}

export function toCsv(bars: readonly DailyBar[]): string {
  const lines = bars.map((b) => `${b.date},${b.open},${b.high},${b.low},${b.close},${b.volume}`);
  return `date,open,high,low,close,volume\n${lines.join('\n')}\n`;
}

/** The bundled S&P 500 bars, validated strictly as the CLI reads them. */
export async function bundledSpx(): Promise<DailyBar[]> {
  const result = await new CsvBarSource(path.join(BUNDLED_DATA, 'SPX.csv'), { strict: true }).load('SPX');
  if (result.rejected) throw new Error('the bundled SPX.csv failed validation');
  return result.bars;
}

/** Writes SPX and `size - 1` synthetic symbols (SYN01, SYN02, …), each on SPX's last `sessions` sessions. */
export async function writeUniverse(dir: string, size: { symbols: number; sessions?: number }): Promise<Universe> {
  const spx = (await bundledSpx()).slice(-(size.sessions ?? Infinity));
  const dates = spx.map((b) => b.date);
  await mkdir(dir, { recursive: true });
  const symbols = ['SPX'];
  await writeFile(path.join(dir, 'SPX.csv'), toCsv(spx));
  for (let i = 1; i < size.symbols; i++) {
    const symbol = `SYN${String(i).padStart(2, '0')}`;
    await writeFile(path.join(dir, `${symbol}.csv`), toCsv(syntheticBars(symbol, dates, UNIVERSE_SEED + i)));
    symbols.push(symbol);
  }
  return { dir, symbols, sessions: dates.length, from: dates[0]!, to: dates[dates.length - 1]! };
}
