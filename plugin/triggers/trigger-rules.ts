/**
 * Which training a session close asks for, on the bar calendar only (never the wall clock):
 * - weekly: the last session of the week (Friday, or the session before a Friday holiday) → incremental (a full
 *   training without a model, at most once a month);
 * - monthly: the last session of the month → full;
 * - quarterly: the last session of Mar/Jun/Sep/Dec → full;
 * - performance_decay: recent mean error > historical mean × multiplier → full.
 * Priority monthly > quarterly > performance_decay > weekly, and at most one training per symbol per session.
 */
import type { TradingCalendar } from '../calendar.js';
import type { TrainingMode } from '../training/trainer.js';

export type TriggerType = 'monthly' | 'quarterly' | 'performance_decay' | 'weekly';

export const TRIGGER_PRIORITY: readonly TriggerType[] = ['monthly', 'quarterly', 'performance_decay', 'weekly'];

export interface TriggerDecision {
  trigger: TriggerType | null;
  mode: TrainingMode | null;
  /** Why, in words: what fired, what won, or why nothing runs. */
  reason: string;
  /** Every trigger that fired this session, in priority order. */
  candidates: TriggerType[];
}

/** The calendar triggers of `session`; `nextSession` is the host's hint for the newest session. */
export function calendarTriggers(calendar: TradingCalendar, session: string, nextSession?: string): TriggerType[] {
  const fired: TriggerType[] = [];
  if (calendar.isMonthEnd(session, nextSession)) fired.push('monthly');
  if (calendar.isQuarterEnd(session, nextSession)) fired.push('quarterly');
  if (calendar.isWeekEnd(session, nextSession)) fired.push('weekly');
  return fired;
}

export interface TriggerInput {
  session: string;
  calendarCandidates: readonly TriggerType[];
  decayTriggered: boolean;
  hasModel: boolean;
  /** Last session of the data of the symbol's latest full or fast training, deployed or not (none: never trained). */
  lastTrainedThrough?: string;
  /** A training for this symbol was already decided this session (by this or another process). */
  alreadyDecided: boolean;
  /** Mode of the full trainings (monthly, quarterly, decay): 'full' as the original, or 'fast'. */
  fullMode: Exclude<TrainingMode, 'incremental'>;
}

export function decideTrigger(input: TriggerInput): TriggerDecision {
  const fired = new Set<TriggerType>([...input.calendarCandidates, ...(input.decayTriggered ? (['performance_decay'] as const) : [])]);
  const candidates = TRIGGER_PRIORITY.filter((t) => fired.has(t));
  if (candidates.length === 0) return { trigger: null, mode: null, reason: `no trigger fired on ${input.session}`, candidates };
  if (input.alreadyDecided) {
    return { trigger: null, mode: null, reason: `a training was already decided for ${input.session}: at most one per session`, candidates };
  }
  const trigger = candidates[0]!;
  const others = candidates.slice(1);
  const outranks = others.length ? ` (outranks ${others.join(', ')})` : '';
  if (trigger === 'weekly') {
    if (input.hasModel) return { trigger, mode: 'incremental', reason: `weekly: last session of the week ${input.session}${outranks}`, candidates };
    // Fine-tuning needs something to fine-tune: a symbol without a model gets a full training — once a month: a
    // candidate refused this month (the skill gate) is not tried again every week on nearly the same data.
    const tried = input.lastTrainedThrough;
    if (tried && tried.slice(0, 7) === input.session.slice(0, 7)) {
      return {
        trigger: null,
        mode: null,
        reason: `weekly on ${input.session}: no model to fine-tune, and this month's training (data through ${tried}) deployed none; the monthly training tries again`,
        candidates,
      };
    }
    return { trigger, mode: input.fullMode, reason: `weekly on ${input.session}, but no model to fine-tune: ${input.fullMode} training instead`, candidates };
  }
  const what = { monthly: 'last session of the month', quarterly: 'last session of the quarter', performance_decay: 'performance decay detected' }[trigger];
  return { trigger, mode: input.fullMode, reason: `${trigger}: ${what} ${input.session}${outranks}`, candidates };
}
