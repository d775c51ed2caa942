import { beforeAll, describe, expect, it } from 'vitest';
import { BarStore, type DailyBar } from '../plugin/index.js';
import { updateAccuracy } from '../plugin/accuracy/backfill.js';
import { makeForecast } from '../plugin/forecasting/forecast.js';
import { PredictionLog } from '../plugin/signals/prediction-log.js';
import type { Signal } from '../plugin/signals/signal.js';
import { testDatabases, useTestStore } from './support/databases.js';
import { spxBars } from './support/spx.js';

describe.each(testDatabases)('prediction log and accuracy backfill on $name', (db) => {
  const testStore = useTestStore(db);
  let bars: DailyBar[];
  const close = (date: string) => bars.find((b) => b.date === date)!.close;

  async function logPrediction(asOf: string, probUp: number, magnitude: number, set?: string) {
    const forecast = makeForecast({ symbol: 'SPX', bars: [], asOf }, 'lstm', {
      probUp,
      expectedReturns: [0, 0, 0, 0, magnitude],
      modelVersion: 'SPX-20030101T000000000-abcd',
    });
    return new PredictionLog(testStore()).record(forecast, { symbol: 'SPX', as_of: asOf } as Signal, set);
  }

  beforeAll(async () => {
    bars = await spxBars();
    await new BarStore(testStore()).ingest(bars);
  });

  it('logs a prediction once: the same symbol, session and model again adds no row and keeps the first', async () => {
    const first = await logPrediction('2003-06-30', 0.61, 0.012);
    const again = await logPrediction('2003-06-30', 0.99, 0.1);
    expect(first.created).toBe(true);
    expect(again).toEqual({ created: false, row: first.row });
    expect(again.row).toMatchObject({ prob_up: 0.61, magnitude: 0.012, direction: 1, source: 'lstm', prediction_set: 'live' });
    expect((await logPrediction('2003-06-30', 0.4, -0.01, 'backtest-a')).created).toBe(true);
    expect(await testStore().repos.predictionLog.countBy({ predict_date: '2003-06-30' })).toBe(2);
  });

  it('backfills on the fifth session after, across July 4th and a month end, only once that session exists', async () => {
    await logPrediction('2019-11-26', 0.45, -0.004); // Thanksgiving and a month end in between
    await logPrediction('2020-04-14', 0.55, 0.01); // its fifth session is after the data
    const early = await updateAccuracy(testStore(), 'SPX', '2003-07-07');
    expect(early.written).toEqual([]);
    expect(early.pending).toBe(3);

    const due = await updateAccuracy(testStore(), 'SPX');
    expect(due.pending).toBe(1);
    expect(due.written.map((r) => [r.predict_date, r.actual_date])).toEqual([
      ['2003-06-30', '2003-07-08'],
      ['2019-11-26', '2019-12-04'],
    ]);
    const [july, november] = due.written;
    const actual = close('2003-07-08') / close('2003-06-30') - 1;
    expect(july).toMatchObject({ predicted_direction: 1, predicted_magnitude: 0.012, actual_direction: actual > 0 ? 1 : 0, source: 'lstm' });
    expect(july!.actual_magnitude).toBeCloseTo(actual, 12);
    expect(july!.error_magnitude).toBeCloseTo(Math.abs(0.012 - actual), 12);
    expect(july!.direction_correct).toBe(actual > 0);
    const novActual = close('2019-12-04') / close('2019-11-26') - 1;
    expect(november!.actual_magnitude).toBeCloseTo(novActual, 12);
    expect(november!.direction_correct).toBe(novActual <= 0);

    const again = await updateAccuracy(testStore(), 'SPX');
    expect(again).toEqual({ symbol: 'SPX', written: [], pending: 1 });
    expect(await testStore().repos.accuracyRecord.countBy({ symbol: 'SPX', prediction_set: 'live' })).toBe(2);
    // The backtest set is backfilled on its own.
    expect((await updateAccuracy(testStore(), 'SPX', undefined, 'backtest-a')).written.map((r) => r.actual_date)).toEqual(['2003-07-08']);
  });
});
