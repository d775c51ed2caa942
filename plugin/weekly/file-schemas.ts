/** JSON Schemas of the weekly files, for readers that want to validate what they load (the tests do). */

const number = { type: 'number' } as const;
const returns = Object.fromEntries([1, 2, 3, 4, 5].map((d) => [`expected_return_${d}d`, { type: 'number', minimum: -0.15, maximum: 0.15 }]));
const failures = {
  type: 'array',
  items: { type: 'object', required: ['symbol', 'error'], properties: { symbol: { type: 'string' }, error: { type: 'string' } } },
} as const;

export const SIGNAL_SCHEMA = {
  type: 'object',
  required: [
    'symbol', 'as_of', 'horizon', 'action', 'grade', 'confidence', 'prob_up', ...Object.keys(returns), 'current_price', 'stop_loss',
    'take_profit', 'risk_level', 'technical_score', 'volume', 'source', 'model_version', 'fallback_reasons', 'prob_up_raw', 'levels_rule',
    'levels_coverage', 'skill', 'dissimilarity', 'out_of_distribution', 'data_age_days', 'data_age_sessions', 'stale',
  ],
  properties: {
    symbol: { type: 'string' },
    ticker: { type: 'string' },
    as_of: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    horizon: { type: 'integer', minimum: 1 },
    action: { enum: ['BUY', 'SELL', 'HOLD'] },
    grade: { enum: ['STRONG_BUY', 'BUY', 'HOLD', 'SELL', 'STRONG_SELL'] },
    confidence: { type: 'integer', minimum: 1, maximum: 5 },
    prob_up: { type: 'number', minimum: 0, maximum: 1 },
    ...returns,
    current_price: { type: 'number', exclusiveMinimum: 0 },
    stop_loss: { type: 'number', minimum: 0 },
    take_profit: { type: 'number', minimum: 0 },
    risk_level: { enum: ['LOW', 'MEDIUM', 'HIGH'] },
    technical_score: { type: 'number', minimum: 0, maximum: 1 },
    volume: number,
    source: { enum: ['lstm', 'arima', 'technical', 'base_rate'] },
    model_version: { type: ['string', 'null'] },
    fallback_reasons: { type: 'array', items: { type: 'object', required: ['source', 'reason'] } },
    prob_up_raw: { type: 'number', minimum: 0, maximum: 1 },
    levels_rule: { enum: ['conformal', 'atr', 'fixed'] },
    levels_coverage: { type: ['number', 'null'], exclusiveMinimum: 0, exclusiveMaximum: 1 },
    skill: {
      type: 'object',
      required: ['shown', 'summary', 'measured'],
      properties: {
        shown: { type: ['boolean', 'null'] },
        summary: { type: 'string' },
        measured: {
          type: ['object', 'null'],
          required: ['sample', 'from', 'to', 'n', 'hit_rate', 'hit_rate_interval', 'best_baseline', 'brier_skill', 'reference_base_rate', 'ic', 'passed', 'reason'],
        },
      },
    },
    dissimilarity: { type: ['number', 'null'], minimum: 0 },
    out_of_distribution: { type: 'boolean' },
    data_age_days: { type: 'integer', minimum: 0 },
    data_age_sessions: { type: 'integer', minimum: 0 },
    stale: { type: 'boolean' },
  },
} as const;

const probability = { type: 'number', minimum: 0, maximum: 1 } as const;
const interval = { type: 'object', required: ['low', 'high'], properties: { low: probability, high: probability } } as const;
const baseline = { type: 'object', required: ['name', 'hit_rate'], properties: { name: { type: 'string' }, hit_rate: probability } } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const nullableProbability = { type: ['number', 'null'], minimum: 0, maximum: 1 } as const;
const symbol = { type: 'string', minLength: 1 } as const;
const date = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;

/** What a holdout measure and a live record both say: n, the hit rate with its interval, the best baseline, Brier skill, IC. */
const hitRateBesideBaseline = {
  n: { type: 'integer', minimum: 1 },
  hit_rate: probability,
  hit_rate_interval: interval,
  best_baseline: baseline,
  brier_skill: nullableNumber,
  ic: nullableNumber,
} as const;

/** A signal's `model_skill` in the signals file: the holdout measure it carries and the live set's record. */
const MODEL_SKILL_SCHEMA = {
  type: 'object',
  required: ['shown', 'summary', 'holdout', 'live'],
  additionalProperties: false,
  properties: {
    shown: { type: ['boolean', 'null'] },
    summary: { type: 'string', minLength: 1 },
    holdout: {
      type: ['object', 'null'],
      required: ['from', 'to', 'n', 'hit_rate', 'hit_rate_interval', 'best_baseline', 'brier_skill', 'reference_base_rate', 'ic', 'passed', 'reason', 'summary'],
      properties: {
        ...hitRateBesideBaseline,
        reference_base_rate: probability,
        passed: { type: 'boolean' },
        reason: { type: 'string' },
        summary: { type: 'string' },
      },
    },
    live: {
      type: ['object', 'null'],
      required: ['n', 'hit_rate', 'hit_rate_interval', 'best_baseline', 'brier_skill', 'ic', 'ece_calibrated', 'coverage_realised', 'coverage_nominal'],
      additionalProperties: false,
      properties: {
        ...hitRateBesideBaseline,
        ece_calibrated: nullableProbability,
        coverage_realised: nullableProbability,
        coverage_nominal: nullableProbability,
      },
    },
  },
} as const;

export const SIGNALS_FILE_SCHEMA = {
  type: 'object',
  required: ['timestamp', 'generation_time', 'model_type', 'prediction_horizon', 'total_stocks_analyzed', 'signals', 'stale_signals', 'failures'],
  properties: {
    timestamp: { type: 'string', pattern: '^\\d{8}_\\d{6}$' },
    generation_time: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}' },
    model_type: { const: 'weekly_lstm' },
    prediction_horizon: { type: 'string', pattern: '^\\d+_days$' },
    total_stocks_analyzed: { type: 'integer', minimum: 0 },
    signals: {
      type: 'array',
      items: {
        allOf: [SIGNAL_SCHEMA, { type: 'object', required: ['ticker', 'model_skill'], properties: { ticker: symbol, model_skill: MODEL_SKILL_SCHEMA } }],
      },
    },
    stale_signals: { type: 'array', items: symbol, uniqueItems: true },
    failures,
  },
} as const;

export const STATUS_FILE_SCHEMA = {
  type: 'object',
  required: [
    'last_run', 'status', 'stocks_analyzed', 'signals_generated', 'latest_signal_file', 'next_recommended_run', 'failures', 'degraded', 'stale',
    'without_skill', 'out_of_distribution', 'notes', 'model_skill',
  ],
  properties: {
    last_run: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}' },
    status: { enum: ['success', 'degraded', 'partial', 'failed'] },
    stocks_analyzed: { type: 'integer', minimum: 0 },
    signals_generated: {
      type: 'object',
      required: ['buy', 'sell', 'hold'],
      properties: { buy: { type: 'integer' }, sell: { type: 'integer' }, hold: { type: 'integer' } },
    },
    latest_signal_file: { type: ['string', 'null'] },
    next_recommended_run: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    failures,
    degraded: {
      type: 'array',
      items: {
        type: 'object',
        required: ['symbol', 'version_id', 'reason'],
        properties: { symbol, version_id: { type: 'string', minLength: 1 }, reason: { type: 'string', minLength: 1 } },
      },
    },
    model_skill: { type: 'object', additionalProperties: MODEL_SKILL_SCHEMA },
    stale: {
      type: 'array',
      items: {
        type: 'object',
        required: ['symbol', 'as_of', 'data_age_days'],
        properties: { symbol, as_of: date, data_age_days: { type: 'integer', minimum: 0 } },
      },
    },
    without_skill: {
      type: 'array',
      items: {
        type: 'object',
        required: ['symbol', 'shown', 'source', 'summary'],
        properties: {
          symbol,
          shown: { type: ['boolean', 'null'], not: { const: true } },
          source: { enum: ['lstm', 'arima', 'technical', 'base_rate'] },
          summary: { type: 'string', minLength: 1 },
        },
      },
    },
    out_of_distribution: {
      type: 'array',
      items: { type: 'object', required: ['symbol', 'dissimilarity'], properties: { symbol, dissimilarity: { type: ['number', 'null'], minimum: 0 } } },
    },
    notes: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
} as const;
