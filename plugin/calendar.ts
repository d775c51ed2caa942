/**
 * The trading calendar, derived from the bars themselves: a session exists because a bar is dated on it.
 * Nothing here reads the wall clock, so a backtest and the live system see the same calendar.
 */
import type { DailyBar } from './bar.js';

const DAY_MS = 86_400_000;
const SESSION_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a `YYYY-MM-DD` date, or undefined when it is not a real calendar date. */
function dayNumber(date: string): number | undefined {
  const m = SESSION_DATE.exec(date);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  // Date.UTC rolls 2001-02-30 over to March: a real date survives the round trip unchanged.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return undefined;
  return ms / DAY_MS;
}

/** Whether `date` is a real calendar date written `YYYY-MM-DD`. */
export function isSessionDate(date: string): boolean {
  return dayNumber(date) !== undefined;
}

function requireDay(date: string): number {
  const day = dayNumber(date);
  if (day === undefined) throw new RangeError(`not a calendar date (YYYY-MM-DD): ${JSON.stringify(date)}`);
  return day;
}

/** Calendar days from `from` to `to` (negative when `to` is earlier). */
export function calendarDaysBetween(from: string, to: string): number {
  return requireDay(to) - requireDay(from);
}

/** The date `days` calendar days after `date`. */
export function addCalendarDays(date: string, days: number): string {
  return new Date((requireDay(date) + days) * DAY_MS).toISOString().slice(0, 10);
}

/** Weekdays strictly between `from` and `to`: the sessions a weekday calendar expects between them (holidays unknown). */
export function weekdaysBetween(from: string, to: string): number {
  let count = 0;
  for (let day = requireDay(from) + 1; day < requireDay(to); day++) if (isoWeekday(day) <= 5) count++;
  return count;
}

/** 'Saturday' or 'Sunday' when `date` falls on a weekend, else undefined. */
export function weekendDayName(date: string): string | undefined {
  const weekday = isoWeekday(requireDay(date));
  return weekday === 6 ? 'Saturday' : weekday === 7 ? 'Sunday' : undefined;
}

/** The UTC calendar date of `now`, `YYYY-MM-DD`. */
export function utcDate(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** ISO weekday of a day number: 1 = Monday .. 7 = Sunday (1970-01-01 was a Thursday). */
function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

/** A key per period; two dates are in the same period exactly when their keys are equal. */
type PeriodKey = (day: number) => number;

/** ISO weeks run Monday..Sunday: the key is the day number of the week's Monday. */
const weekKey: PeriodKey = (day) => day - (isoWeekday(day) - 1);
const monthKey: PeriodKey = (day) => {
  const d = new Date(day * DAY_MS);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
};
const quarterKey: PeriodKey = (day) => Math.floor(monthKey(day) / 3);

export class TradingCalendar {
  readonly sessions: readonly string[];
  private readonly index: ReadonlyMap<string, number>;

  /** `sessions`: strictly ascending `YYYY-MM-DD` dates. */
  constructor(sessions: readonly string[]) {
    sessions.forEach((session, i) => {
      requireDay(session);
      if (i > 0 && session <= sessions[i - 1]!) {
        throw new RangeError(`sessions must be strictly ascending: ${sessions[i - 1]} then ${session}`);
      }
    });
    this.sessions = Object.freeze([...sessions]);
    this.index = new Map(this.sessions.map((session, i) => [session, i]));
  }

  /** The sessions on which any of `bars` is dated (bars of several symbols may be mixed, in any order). */
  static fromBars(bars: readonly DailyBar[]): TradingCalendar {
    return new TradingCalendar([...new Set(bars.map((bar) => bar.date))].sort());
  }

  has(date: string): boolean {
    return this.index.has(date);
  }

  /** Position of `date` in `sessions`, -1 when it is not a session. */
  indexOf(date: string): number {
    return this.index.get(date) ?? -1;
  }

  /**
   * The session `n` sessions after `date` (before it when `n` is negative): "+5 sessions" counts trading
   * days, not calendar days. Undefined past either end. `date` must be a session: counting from a date the
   * calendar does not know would silently pick a side, so that throws.
   */
  offset(date: string, n: number): string | undefined {
    const i = this.index.get(date);
    if (i === undefined) throw new RangeError(`${date} is not a session of this calendar`);
    return this.sessions[i + n];
  }

  /** Sessions from `from` to `to`, both inclusive; neither needs to be a session. */
  between(from: string, to: string): string[] {
    return this.sessions.slice(this.firstAfter(from, true), this.firstAfter(to, false));
  }

  /** Whether `session` is the last session of its ISO week (Monday..Sunday). */
  isWeekEnd(session: string, nextSession?: string): boolean {
    return this.isPeriodEnd(session, nextSession, weekKey);
  }

  isMonthEnd(session: string, nextSession?: string): boolean {
    return this.isPeriodEnd(session, nextSession, monthKey);
  }

  /** Quarters are Jan–Mar, Apr–Jun, Jul–Sep, Oct–Dec. */
  isQuarterEnd(session: string, nextSession?: string): boolean {
    return this.isPeriodEnd(session, nextSession, quarterKey);
  }

  /** Index of the first session after `date` (at or after it when `inclusive`). */
  private firstAfter(date: string, inclusive: boolean): number {
    let lo = 0;
    let hi = this.sessions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.sessions[mid]!;
      if (s < date || (!inclusive && s === date)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * `session` ends its period when the next session falls in a later one. The next session comes from the
   * calendar when it has one after `session`, else from `nextSession` (a live platform knows its exchange
   * calendar). With neither, the weekday rule decides: the period ends if no Monday–Friday remains in it
   * after `session`. That rule cannot know about a holiday tomorrow: a Thursday before a Good Friday is not
   * a week end by it, and becomes one only once the calendar (or the hint) shows the next session.
   */
  private isPeriodEnd(session: string, nextSession: string | undefined, key: PeriodKey): boolean {
    const day = requireDay(session);
    const next = this.sessions[this.firstAfter(session, false)] ?? nextSession;
    if (next !== undefined) {
      const nextDay = requireDay(next);
      if (nextDay <= day) throw new RangeError(`next session ${next} is not after ${session}`);
      return key(nextDay) !== key(day);
    }
    for (let d = day + 1; key(d) === key(day); d++) {
      if (isoWeekday(d) <= 5) return false;
    }
    return true;
  }
}
