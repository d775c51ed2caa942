/** Schema fragments the routes share; symbol and name patterns are the configuration's own. */
import { manifest } from '../manifest.js';
import type { InputSchema } from './validation.js';

const { symbols, prediction_set } = manifest.contributes.configuration.properties;

export const SYMBOL = { type: 'string', pattern: symbols.items.pattern };
/** A backtest's name, which is its prediction set's name. */
export const NAME = { type: 'string', pattern: prediction_set.pattern };
export const DATE = { type: 'string', format: 'date' };
export const FLAG = { type: 'boolean' };

export function inputOf(properties: InputSchema['properties'], required: readonly string[] = []): InputSchema {
  return { type: 'object', properties, required, additionalProperties: false };
}
