/** The example strategies, their replay and their report. */
export type { Strategy, StrategyOptions, StrategyRun, Trade, EquityPoint, ExitReason, SignalEventPayload } from './strategy.js';
export { SignalStrategy, DEFAULT_STRATEGY_OPTIONS, signalSide } from './signal-strategy.js';
export { LstmSwing } from './lstm-swing.js';
export { LstmLongShort } from './lstm-long-short.js';
export { STRATEGIES, type StrategyName } from './named.js';
export { PositionBook, type OpenPosition, type PositionSide } from './position-book.js';
export { Holding, type Side, type Costs } from './holding.js';
export { barExit, type ExitPlan, type BarExit } from './exit-rules.js';
export { replaySignals } from './replay.js';
export { backtestReport, formatReport, type BacktestReport, type ReturnMetrics, type EquityCurvePoint } from './report.js';
