/**
 * `check_triggers` for one symbol at one session: the calendar and decay triggers, the priority rule,
 * and — when asked to run — the decision recorded once per symbol and session. The unique (symbol,
 * session) row is what keeps two processes from both training a symbol for the same session.
 */
import { In } from 'typeorm';
import { TradingCalendar } from '../calendar.js';
import type { PluginConfig } from '../config.js';
import { checkDecay, type DecayResult } from '../monitoring/decay.js';
import { decaySettings } from '../monitoring/status.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { BarStore } from '../store/bar-store.js';
import { isDuplicateKey } from '../store/errors.js';
import type { TriggerDecisionRow } from '../store/entities.js';
import type { Store } from '../store/store.js';
import { calendarTriggers, decideTrigger, type TriggerDecision } from './trigger-rules.js';

export interface TriggerCheck extends TriggerDecision {
  symbol: string;
  session: string;
  decay: DecayResult;
  /** The stored decision (when run); null for a report-only check. */
  recorded: TriggerDecisionRow | null;
  /** An earlier decision of this session that asked for a training never queued (its process stopped first). */
  unqueued: TriggerDecisionRow | null;
}

export async function checkTriggers(
  store: Store,
  config: PluginConfig,
  symbol: string,
  options: { session?: string; nextSession?: string; record: boolean },
): Promise<TriggerCheck> {
  const bars = await new BarStore(store).load(symbol, options.session ? { to: options.session } : {});
  const session = options.session ?? bars[bars.length - 1]?.date;
  if (!session || bars[bars.length - 1]?.date !== session) throw new Error(`${symbol}: no stored bar on ${session ?? 'any session'}`);
  const calendar = TradingCalendar.fromBars(bars);
  const decay = await checkDecay(store, symbol, decaySettings(config), { log: options.record });
  const previous = await store.repos.triggerDecision.findOneBy({ symbol, session });
  const decision = decideTrigger({
    session,
    calendarCandidates: calendarTriggers(calendar, session, options.nextSession),
    decayTriggered: decay.triggered,
    hasModel: (await new ModelRegistry(store).currentVersionId(symbol)) !== undefined,
    lastTrainedThrough: (await store.repos.trainingRun.findOne({ where: { symbol, training_type: In(['full', 'fast']) }, order: { id: 'DESC' } }))?.data_end ?? undefined,
    alreadyDecided: previous !== null,
    fullMode: config.triggers.full_mode,
  });
  const unqueued = previous?.trigger_type && previous.job_id === null ? previous : null;
  const check: TriggerCheck = { ...decision, symbol, session, decay, recorded: null, unqueued };
  if (!options.record || previous) return check;
  try {
    check.recorded = await store.repos.triggerDecision.save({
      symbol,
      session,
      trigger_type: decision.trigger,
      training_type: decision.mode,
      reason: decision.reason,
      candidates_json: decision.candidates,
      job_id: null,
    });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    // Another process decided this session first: its decision stands, this one does nothing.
    return { ...check, trigger: null, mode: null, reason: `a training was already decided for ${session}: at most one per session` };
  }
  return check;
}
