import { describe, expect, it } from 'vitest';
import { TradingCalendar } from '../plugin/calendar.js';
import { calibrate, type Outcome } from '../plugin/monitoring/calibration.js';
import { detectDecay } from '../plugin/monitoring/decay.js';
import { calendarTriggers, decideTrigger, type TriggerType } from '../plugin/triggers/trigger-rules.js';
import { spxBars } from './support/spx.js';

describe('calendar triggers on the real S&P sessions', async () => {
  const calendar = TradingCalendar.fromBars(await spxBars());
  it.each<[string, TriggerType[]]>([
    ['2003-07-02', []],
    ['2003-07-03', ['weekly']], // Friday July 4th closed: Thursday ends the week
    ['2003-06-30', ['monthly', 'quarterly']], // a Monday ending June and Q2
    ['2004-06-10', ['weekly']], // Friday 2004-06-11 closed (national day of mourning)
    ['2001-09-10', ['weekly']], // markets closed 11–14 September 2001
    ['2017-12-29', ['monthly', 'quarterly', 'weekly']],
    ['2019-11-29', ['monthly', 'weekly']], // the Friday after Thanksgiving ends November
    ['2019-11-27', []],
  ])('%s → %j', (session, expected) => {
    expect(calendarTriggers(calendar, session)).toEqual(expected);
  });

  it('uses the host’s next-session hint for the newest session', () => {
    const upToThursday = new TradingCalendar(calendar.sessions.filter((d) => d <= '2003-07-03'));
    expect(calendarTriggers(upToThursday, '2003-07-03')).toEqual([]); // a Thursday, tomorrow unknown
    expect(calendarTriggers(upToThursday, '2003-07-03', '2003-07-07')).toEqual(['weekly']);
  });
});

describe('decideTrigger', () => {
  const base = { session: '2017-12-29', decayTriggered: false, hasModel: true, alreadyDecided: false, fullMode: 'full' as const };
  it.each<[string, Partial<Parameters<typeof decideTrigger>[0]>, TriggerType | null, string | null, RegExp]>([
    ['monthly outranks quarterly and weekly', { calendarCandidates: ['monthly', 'quarterly', 'weekly'] }, 'monthly', 'full', /^monthly: last session of the month 2017-12-29 \(outranks quarterly, weekly\)$/],
    ['quarterly outranks decay', { calendarCandidates: ['quarterly'], decayTriggered: true }, 'quarterly', 'full', /outranks performance_decay/],
    ['decay outranks weekly', { calendarCandidates: ['weekly'], decayTriggered: true }, 'performance_decay', 'full', /^performance_decay: performance decay detected 2017-12-29 \(outranks weekly\)$/],
    ['weekly alone is incremental', { calendarCandidates: ['weekly'] }, 'weekly', 'incremental', /^weekly: last session of the week/],
    ['weekly without a model is a full training', { calendarCandidates: ['weekly'], hasModel: false }, 'weekly', 'full', /no model to fine-tune: full training instead/],
    ['weekly without a model, tried last month: a full training', { calendarCandidates: ['weekly'], hasModel: false, lastTrainedThrough: '2017-11-30' }, 'weekly', 'full', /no model to fine-tune: full training instead/],
    [
      'weekly without a model, already tried this month: nothing',
      { calendarCandidates: ['weekly'], hasModel: false, lastTrainedThrough: '2017-12-15' },
      null,
      null,
      /^weekly on 2017-12-29: no model to fine-tune, and this month's training \(data through 2017-12-15\) deployed none; the monthly training tries again$/,
    ],
    ['monthly without a model trains whatever was tried', { calendarCandidates: ['monthly'], hasModel: false, lastTrainedThrough: '2017-12-15' }, 'monthly', 'full', /^monthly/],
    ['fast full trainings when configured', { calendarCandidates: ['monthly'], fullMode: 'fast' }, 'monthly', 'fast', /^monthly/],
    ['nothing fired', { calendarCandidates: [] }, null, null, /^no trigger fired on 2017-12-29$/],
    ['one training per session', { calendarCandidates: ['monthly'], alreadyDecided: true }, null, null, /already decided for 2017-12-29/],
  ])('%s', (_name, input, trigger, mode, reason) => {
    const decision = decideTrigger({ ...base, calendarCandidates: [], ...input });
    expect([decision.trigger, decision.mode]).toEqual([trigger, mode]);
    expect(decision.reason).toMatch(reason);
  });
});

describe('decay detection', () => {
  // 20 historical errors averaging 2/256, so the threshold 1.5 × 2/256 = 3/256 is exact in binary.
  const history = Array.from({ length: 20 }, (_, i) => (i % 2 ? 3 / 256 : 1 / 256));
  const at = new Date('2020-01-02T00:00:00Z');
  const settings = { nRecent: 20, multiplier: 1.5, minHistorical: 20, alpha: 0.05 };
  /** Predictions made on consecutive days of 2019 from `first` on; right or wrong as the majority baseline was (no hit-rate gap). */
  const scored = (errors: readonly number[], first = 1) =>
    errors.map((error, i) => ({ error, predictDate: new Date(Date.UTC(2019, 0, first + i)).toISOString().slice(0, 10), correct: i % 2 === 0, baselines: { majority: i % 2 === 0 } }));
  it.each([
    ['below the threshold', 3 / 256 - 1e-6, false],
    ['exactly at the threshold (not above)', 3 / 256, false],
    ['above the threshold', 3 / 256 + 1e-6, true],
  ])('recent mean %s', (_name, recent, triggered) => {
    const result = detectDecay(scored([...history, ...Array(20).fill(recent)]), undefined, settings, at);
    expect(result).toMatchObject({ triggered, n_recent_samples: 20, n_historical_samples: 20, detected_at: '2020-01-02T00:00:00.000Z' });
    expect(result.historical_avg_error).toBe(2 / 256);
    expect(result.recent_avg_error).toBeCloseTo(recent, 15);
    expect(result.threshold).toBe(3 / 256);
  });

  it('the error rule needs a history before it can trigger', () => {
    const result = detectDecay(scored([...history.slice(0, 5), ...Array(20).fill(0.5)]), undefined, settings, at);
    expect(result).toMatchObject({ triggered: false, threshold: null, n_historical_samples: 5 });
    expect(result.reason).toBe('error rule: 5/20 earlier records, no history yet; hit rate 10/20 not significantly below majority\'s 10/20 on the same sessions (McNemar p 1.0, alpha 0.05)');
    expect(detectDecay(scored(Array(19).fill(0.5)), undefined, settings, at)).toMatchObject({ triggered: false, baseline: null, reason: 'not enough accuracy records: 19/20 recent' });
  });

  it('the baseline rule: a hit rate significantly below the best baseline’s on the same sessions triggers, errors or not', () => {
    // Last 20: served right on 3, momentum_5 right on 15 of the same sessions, the served hits among momentum's.
    // b = 0 (served right, momentum wrong), c = 12: p = 2·(1/2)^12 = 0.00048828125.
    const flat = scored([...history, ...Array(20).fill(2 / 256)]).map((r, i) => {
      const k = i - 20;
      return k < 0 ? r : { ...r, correct: k < 3, baselines: { majority: k < 3, momentum_5: k < 15 } };
    });
    const result = detectDecay(flat, undefined, settings, at);
    expect(result.triggered).toBe(true);
    expect(result.baseline).toEqual({ n: 20, hits: 3, hit_rate: 0.15, best_baseline: 'momentum_5', best_baseline_hits: 15, best_baseline_hit_rate: 0.75, mcnemar_p: expect.closeTo(2 / 4096, 12) });
    expect(result.reason).toContain("hit rate 3/20 significantly below momentum_5's 15/20 on the same sessions (McNemar p 0.00049, alpha 0.05)");
    // Below, but not significantly: 9 against 12 with b = 0, c = 3 → p = 2·(1/8) = 0.25.
    const close = flat.map((r, i) => (i < 20 ? r : { ...r, correct: i - 20 < 9, baselines: { majority: i - 20 < 12 } }));
    expect(detectDecay(close, undefined, settings, at)).toMatchObject({ triggered: false, baseline: { hits: 9, best_baseline_hits: 12, mcnemar_p: expect.closeTo(0.25, 12) } });
    // Records written before baselines were kept: no baseline comparison.
    expect(detectDecay(flat.map((r) => ({ ...r, baselines: null })), undefined, settings, at)).toMatchObject({ triggered: false, baseline: null });
  });

  it('waits after a decay retraining until every recent record scores a prediction made after it', () => {
    // Retrained for decay at the close of 2019-01-25 (day 25): 15 of the last 20 predictions came after it.
    const records = scored([...history, ...Array(20).fill(0.5)]);
    const waiting = detectDecay(records, '2019-01-25', settings, at);
    expect(waiting).toMatchObject({ triggered: false, recent_avg_error: 0.5, threshold: 3 / 256 });
    expect(waiting.reason).toBe(
      "recent mean error 0.5000 > 1.5 × historical 0.007813 = 0.01172; hit rate 10/20 not significantly below majority's 10/20 on the same sessions (McNemar p 1.0, alpha 0.05); " +
        'but only 15 of the 20 recent records score predictions made after the decay retraining of 2019-01-25: not triggered until all are',
    );
    // Five predictions on, the recent 20 are all the retrained model's: it is judged, and it has decayed too.
    expect(detectDecay(scored([...history, ...Array(25).fill(0.5)]), '2019-01-25', settings, at).triggered).toBe(true);
    expect(detectDecay(records, undefined, settings, at).triggered).toBe(true);
  });
});

describe('calibration', () => {
  const o = (confidence: number, grade: Outcome['grade'], up: boolean, correct: boolean, ret: number): Outcome => ({
    symbol: 'SPX', confidence, grade, direction_correct: correct, actual_direction: up ? 1 : 0, actual_magnitude: ret,
  });
  it('counts hits per confidence level and per grade', () => {
    const c = calibrate([
      o(4, 'STRONG_BUY', true, true, 0.03),
      o(4, 'BUY', false, false, -0.01),
      o(4, 'BUY', true, true, 0.01),
      o(2, 'SELL', false, true, -0.02),
      o(2, 'HOLD', true, false, 0.005),
    ]);
    // Wilson 2 of 3: centre (2 + z²/2)/(3 + z²) = 3.920729/6.841459 = 0.573083; half = z/(3 + z²)·√(2·1/3 + z²/4) = 0.286483·√1.627032 = 0.286483·1.275552 = 0.365424.
    expect(c.by_confidence['4']).toEqual({
      n: 3, hits: 2, hit_rate: 2 / 3, hit_rate_interval: { low: expect.closeTo(0.20766, 5), high: expect.closeTo(0.938508, 5) },
      up_rate: 2 / 3, mean_actual_return: (0.03 - 0.01 + 0.01) / 3,
    });
    expect(c.by_confidence['2']).toMatchObject({ n: 2, hits: 1, hit_rate: 0.5, up_rate: 0.5 });
    expect(c.by_confidence['5']).toEqual({ n: 0, hits: 0, hit_rate: null, hit_rate_interval: { low: 0, high: 1 }, up_rate: null, mean_actual_return: null });
    expect(c.by_grade.BUY).toMatchObject({ n: 2, hits: 1 });
    expect(c.by_grade.SELL).toMatchObject({ n: 1, hits: 1 });
    expect(c.by_grade.HOLD).toMatchObject({ n: 1, hits: 0 });
  });
});
