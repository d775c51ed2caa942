/**
 * A fallback tier held to its measured skill: it answers only when the symbol's latest holdout showed the
 * tier's skill against the baselines (training records each tier's verdict with every run), and its forecast
 * carries that measure.
 */
import type { ModelSkill } from '../skill/model-skill.js';
import { ForecastUnavailable, type Forecast, type ForecastInput, type Forecaster } from './forecast.js';

export type TierSkillLookup = (symbol: string, source: Forecaster['source']) => Promise<ModelSkill | undefined>;

export class SkillGatedForecaster implements Forecaster {
  readonly source: Forecaster['source'];

  constructor(
    private readonly inner: Forecaster,
    private readonly lookup: TierSkillLookup,
  ) {
    this.source = inner.source;
  }

  async forecast(input: ForecastInput): Promise<Forecast> {
    const skill = await this.lookup(input.symbol, this.source);
    if (!skill?.passed) {
      throw new ForecastUnavailable(this.source, `has not shown skill on ${input.symbol}: ${skill?.reason ?? 'never measured (a training of the symbol measures every tier on its holdout)'}`);
    }
    return { ...(await this.inner.forecast(input)), skill };
  }
}
