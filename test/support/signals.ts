/** A signal with only what a strategy reads set: its session, grade, confidence and levels; the rest neutral. */
import type { Grade, Signal } from '../../plugin/index.js';

export function levelSignal(as_of: string, grade: Grade, confidence: Signal['confidence'], stop_loss: number, take_profit: number, symbol = 'TEST'): Signal {
  const action = grade.endsWith('BUY') ? 'BUY' : grade.endsWith('SELL') ? 'SELL' : 'HOLD';
  return {
    symbol, as_of, horizon: 5, action, grade, confidence, prob_up: 0.5, prob_up_raw: 0.5,
    expected_return_1d: 0, expected_return_2d: 0, expected_return_3d: 0, expected_return_4d: 0, expected_return_5d: 0,
    current_price: 100, stop_loss, take_profit, levels_rule: 'atr', levels_coverage: null, risk_level: 'MEDIUM', technical_score: 0.5, volume: 1000,
    source: 'lstm', model_version: 'v1', fallback_reasons: [], skill: { shown: null, summary: 'not measured', measured: null },
    dissimilarity: null, out_of_distribution: false, data_age_days: 0, data_age_sessions: 0, stale: false,
  };
}
