/**
 * The weekly Excel report: first a summary that says, per symbol, how old the data is and how well the
 * forecaster has done against the naive baselines (holdout and live), with a plain line under the rows for
 * every stale signal; then the original's three sheets: the analysis (grade, expected return, confidence per
 * symbol), the top-10 buys, and the details (indicators at the as-of session and the 1..5-session predictions).
 */
import ExcelJS from 'exceljs';
import type { Signal } from '../signals/signal.js';
import { skillNote, staleNote, writeAtomically, type WeeklyModelSkill } from './output-files.js';

export const REPORT_SHEETS = { summary: 'Summary', analysis: 'Analysis', topBuys: 'Top Buys', details: 'Details' } as const;

export interface ReportRow {
  signal: Signal;
  /** The signal's holdout skill and the live set's record (as in the signals file). */
  skill: WeeklyModelSkill;
  /** Feature values at the as-of session, by feature name. */
  indicators: Record<string, number>;
}

export interface ReportContext {
  /** The run's clock, which the data's age is measured on. */
  now: Date;
  maxDataAgeDays: number;
}

const percent = '0.00%';
const price = '#,##0.00';

function addSheet(book: ExcelJS.Workbook, name: string, columns: Column[], rows: Array<Record<string, unknown>>) {
  const sheet = book.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = columns;
  sheet.getRow(1).font = { bold: true };
  sheet.addRows(rows);
  return sheet;
}

/** "STALE" or "fresh": the word every sheet and the terminal use. */
export const freshness = (signal: Signal) => (signal.stale ? 'STALE' : 'fresh');
/** yes / no / never measured. */
export const skillShown = (shown: boolean | null) => (shown === null ? 'never measured' : shown ? 'yes' : 'no');

type Column = Partial<ExcelJS.Column>;

/** The columns the Analysis and Summary sheets share, by key. */
const SIGNAL_COLUMNS: Record<string, Column> = Object.fromEntries(
  (
    [
      { header: 'Symbol', key: 'symbol', width: 10 },
      { header: 'As of', key: 'as_of', width: 12 },
      { header: 'Data', key: 'freshness', width: 8 },
      { header: 'Grade', key: 'grade', width: 13 },
      { header: 'Confidence', key: 'confidence', width: 11 },
      { header: 'P(up) calibrated', key: 'prob_up', width: 10, style: { numFmt: percent } },
      { header: 'P(up) raw', key: 'prob_up_raw', width: 10, style: { numFmt: percent } },
      { header: 'Source', key: 'source', width: 10 },
      { header: 'Skill shown', key: 'skill_shown', width: 14 },
    ] satisfies Column[]
  ).map((c) => [c.key, c]),
);
const shared = (...keys: string[]) => keys.map((key) => SIGNAL_COLUMNS[key]!);

const analysisColumns: Column[] = [
  ...shared('symbol', 'as_of', 'freshness', 'grade'),
  { header: 'Action', key: 'action', width: 8 },
  ...shared('confidence', 'prob_up', 'prob_up_raw'),
  { header: 'Expected 5d', key: 'expected_return_5d', width: 12, style: { numFmt: percent } },
  { header: 'Price', key: 'current_price', width: 12, style: { numFmt: price } },
  { header: 'Stop loss', key: 'stop_loss', width: 12, style: { numFmt: price } },
  { header: 'Take profit', key: 'take_profit', width: 12, style: { numFmt: price } },
  { header: 'Risk', key: 'risk_level', width: 8 },
  ...shared('source', 'skill_shown'),
  { header: 'Model version', key: 'model_version', width: 32 },
];

const analysisRow = (s: Signal) => ({ ...s, freshness: freshness(s), skill_shown: skillShown(s.skill.shown) });

const summaryColumns: Column[] = [
  ...shared('symbol', 'as_of'),
  { header: 'Data age (days)', key: 'data_age_days', width: 10 },
  ...shared('freshness', 'grade', 'confidence', 'source', 'prob_up', 'prob_up_raw', 'skill_shown'),
  { header: 'Holdout hit rate', key: 'hit_rate', width: 10, style: { numFmt: percent } },
  { header: 'Hit rate 95% low', key: 'hit_rate_low', width: 10, style: { numFmt: percent } },
  { header: 'Hit rate 95% high', key: 'hit_rate_high', width: 10, style: { numFmt: percent } },
  { header: 'Holdout n', key: 'holdout_n', width: 9 },
  { header: 'Best baseline', key: 'best_baseline', width: 18 },
  { header: 'Baseline hit rate', key: 'baseline_hit_rate', width: 10, style: { numFmt: percent } },
  { header: 'Brier skill', key: 'brier_skill', width: 10, style: { numFmt: '0.000' } },
  { header: 'IC', key: 'ic', width: 8, style: { numFmt: '0.000' } },
  { header: 'Holdout ECE raw', key: 'ece_raw', width: 9, style: { numFmt: '0.000' } },
  { header: 'Holdout ECE calibrated', key: 'ece_calibrated', width: 11, style: { numFmt: '0.000' } },
  { header: 'Levels rule', key: 'levels_rule', width: 10 },
  { header: 'Levels coverage', key: 'levels_coverage', width: 10, style: { numFmt: percent } },
  { header: 'Out of distribution', key: 'out_of_distribution', width: 10 },
  { header: 'Live n', key: 'live_n', width: 8 },
  { header: 'Live hit rate', key: 'live_hit_rate', width: 10, style: { numFmt: percent } },
  { header: 'Live ECE calibrated', key: 'live_ece', width: 10, style: { numFmt: '0.000' } },
  { header: 'Skill', key: 'skill_summary', width: 80 },
];

/** Empty cells (null) where there is no measure: a blank is no number, a 0 would be one. */
function summaryRow({ signal: s, skill }: ReportRow): Record<string, unknown> {
  const holdout = skill.holdout;
  return {
    symbol: s.symbol,
    as_of: s.as_of,
    data_age_days: s.data_age_days,
    freshness: freshness(s),
    grade: s.grade,
    confidence: s.confidence,
    source: s.source,
    prob_up: s.prob_up,
    prob_up_raw: s.prob_up_raw,
    skill_shown: skillShown(skill.shown),
    hit_rate: holdout?.hit_rate ?? null,
    hit_rate_low: holdout?.hit_rate_interval.low ?? null,
    hit_rate_high: holdout?.hit_rate_interval.high ?? null,
    holdout_n: holdout?.n ?? null,
    best_baseline: holdout?.best_baseline.name ?? null,
    baseline_hit_rate: holdout?.best_baseline.hit_rate ?? null,
    brier_skill: holdout?.brier_skill ?? null,
    ic: holdout?.ic ?? null,
    ece_raw: holdout?.ece?.raw ?? null,
    ece_calibrated: holdout?.ece?.calibrated ?? null,
    levels_rule: s.levels_rule,
    levels_coverage: s.levels_coverage,
    out_of_distribution: s.out_of_distribution ? 'yes' : 'no',
    live_n: skill.live?.n ?? 0,
    live_hit_rate: skill.live?.hit_rate ?? null,
    live_ece: skill.live?.ece_calibrated ?? null,
    skill_summary: skill.summary,
  };
}

const BUY_GRADES = new Set(['STRONG_BUY', 'BUY']);

/** The strongest buys: by confidence, then by expected 5-day return. */
export function topBuys(signals: readonly Signal[], n = 10): Signal[] {
  return signals
    .filter((s) => BUY_GRADES.has(s.grade))
    .sort((a, b) => b.confidence - a.confidence || b.expected_return_5d - a.expected_return_5d)
    .slice(0, n);
}

export async function writeExcelReport(file: string, rows: readonly ReportRow[], context: ReportContext): Promise<void> {
  const book = new ExcelJS.Workbook();
  book.creator = 'lstm-signals';
  const signals = rows.map((r) => r.signal);

  const summary = addSheet(book, REPORT_SHEETS.summary, summaryColumns, rows.map(summaryRow));
  // Under the rows, after a blank one: each stale signal, then each unskilled one, in plain words (column A).
  const lines = [
    ...signals.filter((s) => s.stale).map((s) => staleNote(s, context.now, context.maxDataAgeDays)),
    ...signals.map(skillNote).filter((line): line is string => line !== undefined),
  ];
  if (lines.length > 0) {
    summary.addRow([]);
    for (const line of lines) summary.addRow([line]);
  }
  for (const [i, s] of signals.entries()) {
    if (s.stale) summary.getRow(i + 2).getCell('freshness').font = { bold: true, color: { argb: 'FFC00000' } };
  }

  addSheet(book, REPORT_SHEETS.analysis, analysisColumns, signals.map(analysisRow));
  addSheet(book, REPORT_SHEETS.topBuys, analysisColumns, topBuys(signals).map(analysisRow));

  const indicatorNames = [...new Set(rows.flatMap((r) => Object.keys(r.indicators)))];
  addSheet(
    book,
    REPORT_SHEETS.details,
    [
      { header: 'Symbol', key: 'symbol', width: 10 },
      { header: 'As of', key: 'as_of', width: 12 },
      ...[1, 2, 3, 4, 5].map((d) => ({ header: `Expected ${d}d`, key: `expected_return_${d}d`, width: 12, style: { numFmt: percent } })),
      { header: 'P(up) calibrated', key: 'prob_up', width: 10, style: { numFmt: percent } },
      { header: 'Technical score', key: 'technical_score', width: 14 },
      { header: 'Volume', key: 'volume', width: 16, style: { numFmt: '#,##0' } },
      ...indicatorNames.map((name) => ({ header: name, key: `ind_${name}`, width: 12, style: { numFmt: '0.0000' } })),
    ],
    rows.map((r) => ({ ...r.signal, ...Object.fromEntries(Object.entries(r.indicators).map(([k, v]) => [`ind_${k}`, v])) })),
  );
  await writeAtomically(file, Buffer.from(await book.xlsx.writeBuffer()));
}
