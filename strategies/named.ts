/** The strategies a replay can run, by the name the CLI and the API give them. */
import { LstmLongShort } from './lstm-long-short.js';
import { LstmSwing } from './lstm-swing.js';

export const STRATEGIES = { 'lstm-swing': LstmSwing, 'lstm-long-short': LstmLongShort } as const;
export type StrategyName = keyof typeof STRATEGIES;
