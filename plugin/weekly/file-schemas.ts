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
    'take_profit', 'risk_level', 'technical_score', 'volume', 'source', 'model_version', 'fallback_reasons',
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
    source: { enum: ['lstm', 'arima', 'technical'] },
    model_version: { type: ['string', 'null'] },
    fallback_reasons: { type: 'array', items: { type: 'object', required: ['source', 'reason'] } },
  },
} as const;

export const SIGNALS_FILE_SCHEMA = {
  type: 'object',
  required: ['timestamp', 'generation_time', 'model_type', 'prediction_horizon', 'total_stocks_analyzed', 'signals', 'failures'],
  properties: {
    timestamp: { type: 'string', pattern: '^\\d{8}_\\d{6}$' },
    generation_time: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}' },
    model_type: { const: 'weekly_lstm' },
    prediction_horizon: { type: 'string', pattern: '^\\d+_days$' },
    total_stocks_analyzed: { type: 'integer', minimum: 0 },
    signals: { type: 'array', items: SIGNAL_SCHEMA },
    failures,
  },
} as const;

export const STATUS_FILE_SCHEMA = {
  type: 'object',
  required: ['last_run', 'status', 'stocks_analyzed', 'signals_generated', 'latest_signal_file', 'next_recommended_run', 'failures'],
  properties: {
    last_run: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}' },
    status: { enum: ['success', 'partial', 'failed'] },
    stocks_analyzed: { type: 'integer', minimum: 0 },
    signals_generated: {
      type: 'object',
      required: ['buy', 'sell', 'hold'],
      properties: { buy: { type: 'integer' }, sell: { type: 'integer' }, hold: { type: 'integer' } },
    },
    latest_signal_file: { type: 'string' },
    next_recommended_run: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    failures,
  },
} as const;
