/**
 * A fallback tier with its measured skill: its forecast carries the tier's skill on the symbol's latest holdout
 * (training records each tier's verdict with every run), and with the skill gate on it answers only when that
 * verdict passed.
 */
import type { ModelSkill } from '../skill/model-skill.js';
import { ForecastUnavailable, type Forecast, type ForecastInput, type Forecaster } from './forecast.js';

export type TierSkillLookup = (symbol: string, source: Forecaster['source']) => Promise<ModelSkill | undefined>;

export class SkillGatedForecaster implements Forecaster {
  readonly source: Forecaster['source'];

  constructor(
    private readonly inner: Forecaster,
    private readonly lookup: TierSkillLookup,
    private readonly gate: boolean,
  ) {
    this.source = inner.source;
  }

  async forecast(input: ForecastInput): Promise<Forecast> {
    const skill = await this.lookup(input.symbol, this.source);
    if (this.gate && !skill?.passed) {
      throw new ForecastUnavailable(this.source, `has not shown skill on ${input.symbol}: ${skill?.reason ?? 'never measured (a training of the symbol measures every tier on its holdout)'}`);
    }
    return { ...(await this.inner.forecast(input)), skill: skill ?? null };
  }
}
