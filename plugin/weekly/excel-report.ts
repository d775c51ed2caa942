/**
 * The weekly Excel report, three sheets as in the original: the analysis (grade, expected return,
 * confidence per symbol), the top-10 buys, and the details (indicators at the as-of session and the
 * 1..5-session predictions).
 */
import ExcelJS from 'exceljs';
import type { Signal } from '../signals/signal.js';
import { writeAtomically } from './output-files.js';

export const REPORT_SHEETS = { analysis: 'Analysis', topBuys: 'Top Buys', details: 'Details' } as const;

export interface ReportRow {
  signal: Signal;
  /** Feature values at the as-of session, by feature name. */
  indicators: Record<string, number>;
}

const percent = '0.00%';
const price = '#,##0.00';

function addSheet(book: ExcelJS.Workbook, name: string, columns: Array<Partial<ExcelJS.Column>>, rows: Array<Record<string, unknown>>) {
  const sheet = book.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = columns;
  sheet.getRow(1).font = { bold: true };
  sheet.addRows(rows);
  return sheet;
}

const analysisColumns: Array<Partial<ExcelJS.Column>> = [
  { header: 'Symbol', key: 'symbol', width: 10 },
  { header: 'As of', key: 'as_of', width: 12 },
  { header: 'Grade', key: 'grade', width: 13 },
  { header: 'Action', key: 'action', width: 8 },
  { header: 'Confidence', key: 'confidence', width: 11 },
  { header: 'P(up)', key: 'prob_up', width: 8, style: { numFmt: percent } },
  { header: 'Expected 5d', key: 'expected_return_5d', width: 12, style: { numFmt: percent } },
  { header: 'Price', key: 'current_price', width: 12, style: { numFmt: price } },
  { header: 'Stop loss', key: 'stop_loss', width: 12, style: { numFmt: price } },
  { header: 'Take profit', key: 'take_profit', width: 12, style: { numFmt: price } },
  { header: 'Risk', key: 'risk_level', width: 8 },
  { header: 'Source', key: 'source', width: 10 },
  { header: 'Model version', key: 'model_version', width: 32 },
];

const BUY_GRADES = new Set(['STRONG_BUY', 'BUY']);

/** The strongest buys: by confidence, then by expected 5-day return. */
export function topBuys(signals: readonly Signal[], n = 10): Signal[] {
  return signals
    .filter((s) => BUY_GRADES.has(s.grade))
    .sort((a, b) => b.confidence - a.confidence || b.expected_return_5d - a.expected_return_5d)
    .slice(0, n);
}

export async function writeExcelReport(file: string, rows: readonly ReportRow[]): Promise<void> {
  const book = new ExcelJS.Workbook();
  book.creator = 'lstm-signals';
  const signals = rows.map((r) => r.signal);
  addSheet(book, REPORT_SHEETS.analysis, analysisColumns, signals.map((s) => ({ ...s })));
  addSheet(book, REPORT_SHEETS.topBuys, analysisColumns, topBuys(signals).map((s) => ({ ...s })));

  const indicatorNames = [...new Set(rows.flatMap((r) => Object.keys(r.indicators)))];
  addSheet(
    book,
    REPORT_SHEETS.details,
    [
      { header: 'Symbol', key: 'symbol', width: 10 },
      { header: 'As of', key: 'as_of', width: 12 },
      ...[1, 2, 3, 4, 5].map((d) => ({ header: `Expected ${d}d`, key: `expected_return_${d}d`, width: 12, style: { numFmt: percent } })),
      { header: 'P(up)', key: 'prob_up', width: 8, style: { numFmt: percent } },
      { header: 'Technical score', key: 'technical_score', width: 14 },
      { header: 'Volume', key: 'volume', width: 16, style: { numFmt: '#,##0' } },
      ...indicatorNames.map((name) => ({ header: name, key: `ind_${name}`, width: 12, style: { numFmt: '0.0000' } })),
    ],
    rows.map((r) => ({ ...r.signal, ...Object.fromEntries(Object.entries(r.indicators).map(([k, v]) => [`ind_${k}`, v])) })),
  );
  await writeAtomically(file, Buffer.from(await book.xlsx.writeBuffer()));
}
