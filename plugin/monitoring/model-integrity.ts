/** Whether a symbol's current model can still be loaded: its stored bytes present and matching their checksum. */
import { ModelBlobError, type ModelRegistry } from '../registry/model-registry.js';
import type { AlertCandidate } from './alert-rules.js';

export interface CorruptModel {
  symbol: string;
  version_id: string;
  /** "SPX: current model version … is corrupted: checksum … ≠ stored …". */
  reason: string;
}

/** The symbol's current model when its bytes cannot be used; undefined when it can, or when there is none. */
export async function corruptCurrentModel(registry: ModelRegistry, symbol: string): Promise<CorruptModel | undefined> {
  const versionId = await registry.currentVersionId(symbol);
  if (!versionId) return undefined;
  try {
    await registry.loadBlob(versionId);
    return undefined;
  } catch (error) {
    if (!(error instanceof ModelBlobError)) throw error;
    return { symbol, version_id: versionId, reason: `${symbol}: current ${error.message}` };
  }
}

/** The alert for a corrupted current model, saying what was done about it (`repair`: "retrained: … deployed", …). */
export function corruptModelAlert(corrupt: CorruptModel, repair: string, details: Record<string, unknown>): AlertCandidate {
  return {
    alert_type: 'model_corrupted',
    symbol: corrupt.symbol,
    severity: 'critical',
    message: `${corrupt.reason}; ${repair}`,
    details: { version_id: corrupt.version_id, ...details },
    dedupe_key: `model_corrupted:${corrupt.symbol}`,
  };
}
