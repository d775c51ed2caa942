/** The bundled real S&P 500 bars, loaded once per test file. */
import path from 'node:path';
import { CsvBarSource } from '../../adapters/bars/csv.js';
import type { DailyBar } from '../../plugin/index.js';

export const SPX_CSV = path.join(import.meta.dirname, '../../data/SPX.csv');

let cached: Promise<DailyBar[]> | undefined;

export function spxBars(): Promise<DailyBar[]> {
  cached ??= new CsvBarSource(SPX_CSV, { strict: true }).load('SPX').then((r) => r.bars);
  return cached;
}
