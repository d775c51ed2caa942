/**
 * Skill measured on sessions of a symbol's bars: the realised outcomes, the baselines fitted on the
 * training sessions and forecasting each session from the bars up to it, and the subject's table beside
 * them. What training (out-of-fold and holdout) and the backfill (live) both use.
 */
import type { DailyBar } from '../bar.js';
import { FORECAST_DAYS } from '../training/constants.js';
import { baselineForecasts, fitBaselines, type BaselineFit, type BaselineSeries } from './baselines.js';
import { skillTable, type ForecastSeries, type RealisedOutcome, type SkillTable } from './skill-table.js';

/** What happened FORECAST_DAYS sessions after each bar index; every index must have that bar. */
export function outcomesAt(bars: readonly DailyBar[], indices: readonly number[]): RealisedOutcome[] {
  return indices.map((t) => {
    const later = bars[t + FORECAST_DAYS];
    if (!later) throw new RangeError(`${bars[t]?.symbol} ${bars[t]?.date}: no bar ${FORECAST_DAYS} sessions later, the outcome is not known yet`);
    return { date: bars[t]!.date, direction: later.close > bars[t]!.close ? 1 : 0, return: later.close / bars[t]!.close - 1 };
  });
}

/** Bar index of each date; throws naming the first date that is not a session of `bars`. */
export function barIndices(bars: readonly DailyBar[], dates: readonly string[]): number[] {
  const index = new Map(bars.map((b, i) => [b.date, i]));
  return dates.map((d) => {
    const i = index.get(d);
    if (i === undefined) throw new RangeError(`${bars[0]?.symbol}: ${d} is not a stored session`);
    return i;
  });
}

export interface MeasuredSkill {
  table: SkillTable;
  fit: BaselineFit;
  baselines: BaselineSeries[];
  outcomes: RealisedOutcome[];
}

/**
 * The subject's skill on the sessions `indices` of `bars` (its forecasts aligned with them), beside the
 * baselines fitted on `trainIndices`. `arima` adds the ARIMA baseline (about 0.1 s a session).
 */
export async function measureSkill(input: {
  sample: string;
  bars: readonly DailyBar[];
  indices: readonly number[];
  trainIndices: readonly number[];
  subject: ForecastSeries;
  arima: boolean;
}): Promise<MeasuredSkill> {
  const closes = input.bars.map((b) => b.close);
  const fit = fitBaselines(closes, input.trainIndices);
  const baselines = await baselineForecasts(input.bars, input.indices, fit, { arima: input.arima });
  const outcomes = outcomesAt(input.bars, input.indices);
  return { table: skillTable(input.sample, input.subject, baselines, outcomes), fit, baselines, outcomes };
}
