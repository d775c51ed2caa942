import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { TradingCalendar } from '../plugin/calendar.js';

const SPX_CSV = fileURLToPath(new URL('../data/SPX.csv', import.meta.url));

/*
 * data/SPX.csv holds every NYSE session from 2000-01-03 to 2020-04-17 (5,105 of them; checked against the
 * exchange's holiday rules plus its special closures: 2001-09-11..14, 2004-06-11, 2007-01-02, 2012-10-29..30,
 * 2018-12-05). The expected dates below were read from the file and agree with that calendar.
 */
let spx: TradingCalendar;
beforeAll(async () => {
  spx = TradingCalendar.fromBars((await new CsvBarSource(SPX_CSV, { strict: true }).load('SPX')).bars);
});

/** The sessions from `from` to `to` that `is` picks. */
const picked = (from: string, to: string, is: (session: string) => boolean) => spx.between(from, to).filter(is);
const weekEnds = (from: string, to: string) => picked(from, to, (s) => spx.isWeekEnd(s));

describe('TradingCalendar on the S&P 500 sessions', () => {
  it('holds the sessions of the file, first to last', () => {
    expect(spx.sessions.length).toBe(5105);
    expect(spx.sessions[0]).toBe('2000-01-03');
    expect(spx.sessions[5104]).toBe('2020-04-17');
    expect(spx.indexOf('2000-01-04')).toBe(1);
    expect(spx.has('2001-09-11')).toBe(false);
    expect(spx.indexOf('2001-09-11')).toBe(-1);
  });

  it('ends a week on the last session before a holiday or closure', () => {
    // Good Friday 2000-04-21.
    expect(weekEnds('2000-04-17', '2000-04-28')).toEqual(['2000-04-20', '2000-04-28']);
    // Independence Day on Friday 2003-07-04.
    expect(weekEnds('2003-06-30', '2003-07-11')).toEqual(['2003-07-03', '2003-07-11']);
    // Closed 2001-09-11..14: Monday 09-10 is that week's only session, hence its end.
    expect(spx.between('2001-09-10', '2001-09-16')).toEqual(['2001-09-10']);
    expect(weekEnds('2001-09-04', '2001-09-21')).toEqual(['2001-09-07', '2001-09-10', '2001-09-21']);
    // Reagan's funeral, Friday 2004-06-11.
    expect(weekEnds('2004-06-07', '2004-06-18')).toEqual(['2004-06-10', '2004-06-18']);
    // Hurricane Sandy closed 2012-10-29 and 10-30: that week has three sessions, ending on Friday.
    expect(spx.between('2012-10-29', '2012-11-04')).toEqual(['2012-10-31', '2012-11-01', '2012-11-02']);
    expect(weekEnds('2012-10-22', '2012-11-09')).toEqual(['2012-10-26', '2012-11-02', '2012-11-09']);
    // New Year's Day 2010 on a Friday: Thursday 2009-12-31 ends ISO week 2009-W53.
    expect(weekEnds('2009-12-28', '2010-01-08')).toEqual(['2009-12-31', '2010-01-08']);
  });

  it('ends a month on its last session', () => {
    const monthEnds = (from: string, to: string) => picked(from, to, (s) => spx.isMonthEnd(s));
    expect(monthEnds('2000-01-01', '2000-12-31')).toEqual([
      '2000-01-31', '2000-02-29', '2000-03-31', '2000-04-28', '2000-05-31', '2000-06-30',
      '2000-07-31', '2000-08-31', '2000-09-29', '2000-10-31', '2000-11-30', '2000-12-29',
    ]);
    // Labor Day on Monday 2003-09-01 does not matter: Friday 08-29 is August's last session anyway.
    expect(monthEnds('2003-08-25', '2003-09-05')).toEqual(['2003-08-29']);
    expect(monthEnds('2017-12-01', '2018-01-05')).toEqual(['2017-12-29']);
    expect(spx.isMonthEnd('2017-12-28')).toBe(false);
  });

  it('ends a quarter on the last session of March, June, September and December', () => {
    const quarterEnds = (from: string, to: string) => picked(from, to, (s) => spx.isQuarterEnd(s));
    expect(quarterEnds('2000-01-01', '2001-12-31')).toEqual([
      '2000-03-31', '2000-06-30', '2000-09-29', '2000-12-29', '2001-03-30', '2001-06-29', '2001-09-28', '2001-12-31',
    ]);
    expect(quarterEnds('2019-01-01', '2020-04-17')).toEqual(['2019-03-29', '2019-06-28', '2019-09-30', '2019-12-31', '2020-03-31']);
    // Month ends that are not quarter ends.
    expect(spx.isQuarterEnd('2003-08-29')).toBe(false);
    expect(spx.isQuarterEnd('2000-04-28')).toBe(false);
  });

  it('counts sessions, not calendar days, across holidays and month ends', () => {
    // 2003-07-04 was a holiday: five sessions after June 30 is July 8.
    expect(spx.offset('2003-06-30', 5)).toBe('2003-07-08');
    expect(spx.offset('2003-07-08', -5)).toBe('2003-06-30');
    expect(spx.offset('2001-09-10', 1)).toBe('2001-09-17');
    expect(spx.offset('2000-12-29', 1)).toBe('2001-01-02');
    expect(spx.offset('2012-10-26', 1)).toBe('2012-10-31');
    expect(spx.offset('2018-12-04', 1)).toBe('2018-12-06');
    expect(spx.offset('2000-01-03', 0)).toBe('2000-01-03');
    expect(spx.offset('2020-04-13', 4)).toBe('2020-04-17');
    expect(spx.offset('2020-04-13', 5)).toBeUndefined();
    expect(spx.offset('2000-01-04', -2)).toBeUndefined();
    expect(() => spx.offset('2001-09-11', 5)).toThrow('2001-09-11 is not a session of this calendar');
  });

  it('lists sessions between two dates, both inclusive, whether or not they are sessions', () => {
    expect(spx.between('2003-07-03', '2003-07-07')).toEqual(['2003-07-03', '2003-07-07']);
    expect(spx.between('2003-07-04', '2003-07-06')).toEqual([]);
    expect(spx.between('1999-12-30', '2000-01-04')).toEqual(['2000-01-03', '2000-01-04']);
    expect(spx.between('2020-04-17', '2020-12-31')).toEqual(['2020-04-17']);
  });

  it('has exactly one week end per ISO week, one month end per month and one quarter end per complete quarter', () => {
    /** Monday of the date's ISO week, computed independently of the calendar. */
    const isoMonday = (date: string) => {
      const d = new Date(`${date}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
      return d.toISOString().slice(0, 10);
    };
    const countBy = (keys: string[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());

    const weeks = countBy(spx.sessions.map(isoMonday));
    const weekEndsPerWeek = countBy(spx.sessions.filter((s) => spx.isWeekEnd(s)).map(isoMonday));
    expect(weeks.size).toBe(1059);
    expect([...weekEndsPerWeek.keys()]).toEqual([...weeks.keys()]);
    expect([...weekEndsPerWeek.values()].every((n) => n === 1)).toBe(true);

    // 244 months are covered; April 2020 is cut off at Friday the 17th, which is not its last weekday.
    const monthEnds = spx.sessions.filter((s) => spx.isMonthEnd(s));
    expect(new Set(spx.sessions.map((s) => s.slice(0, 7))).size).toBe(244);
    expect(monthEnds.length).toBe(243);
    expect(new Set(monthEnds.map((s) => s.slice(0, 7))).size).toBe(243);
    expect(monthEnds.at(-1)).toBe('2020-03-31');

    // 2000Q1..2020Q1 are complete: 81 quarters; 2020Q2 is partial.
    const quarterEnds = spx.sessions.filter((s) => spx.isQuarterEnd(s));
    expect(quarterEnds.length).toBe(81);
    expect(quarterEnds.every((s) => ['03', '06', '09', '12'].includes(s.slice(5, 7)))).toBe(true);
  });
});

describe('TradingCalendar at its last session', () => {
  it('uses the weekday rule without a next session', () => {
    // Friday 2020-04-17: no weekday left in its week, but the month and quarter go on.
    expect(spx.isWeekEnd('2020-04-17')).toBe(true);
    expect(spx.isMonthEnd('2020-04-17')).toBe(false);
    expect(spx.isQuarterEnd('2020-04-17')).toBe(false);

    // Thursday 2000-04-20 as the last known session: the rule cannot know Good Friday is a holiday.
    const toGoodFriday = new TradingCalendar(spx.between('2000-01-01', '2000-04-20'));
    expect(toGoodFriday.isWeekEnd('2000-04-20')).toBe(false);

    // Tuesday 2020-03-31 is the last weekday of March and of Q1.
    const toQuarterEnd = new TradingCalendar(spx.between('2020-01-01', '2020-03-31'));
    expect(toQuarterEnd.isWeekEnd('2020-03-31')).toBe(false);
    expect(toQuarterEnd.isMonthEnd('2020-03-31')).toBe(true);
    expect(toQuarterEnd.isQuarterEnd('2020-03-31')).toBe(true);

    // Friday 2003-08-29: Saturday and Sunday remain in August, no weekday.
    const toAugustEnd = new TradingCalendar(spx.between('2003-08-01', '2003-08-29'));
    expect(toAugustEnd.isMonthEnd('2003-08-29')).toBe(true);
    expect(toAugustEnd.isQuarterEnd('2003-08-29')).toBe(false);

    // Thursday 2017-12-28: Friday the 29th remains in December.
    const toDecember28 = new TradingCalendar(spx.between('2017-12-01', '2017-12-28'));
    expect(toDecember28.isMonthEnd('2017-12-28')).toBe(false);
    expect(toDecember28.isQuarterEnd('2017-12-28')).toBe(false);
  });

  it('uses the next session the host gives', () => {
    const toGoodFriday = new TradingCalendar(spx.between('2000-01-01', '2000-04-20'));
    expect(toGoodFriday.isWeekEnd('2000-04-20', '2000-04-24')).toBe(true);
    expect(toGoodFriday.isMonthEnd('2000-04-20', '2000-04-24')).toBe(false);

    expect(spx.isWeekEnd('2020-04-17', '2020-04-20')).toBe(true);
    expect(spx.isMonthEnd('2020-04-17', '2020-04-20')).toBe(false);

    const toDecember28 = new TradingCalendar(spx.between('2017-12-01', '2017-12-28'));
    expect(toDecember28.isMonthEnd('2017-12-28', '2018-01-02')).toBe(true);
    expect(toDecember28.isQuarterEnd('2017-12-28', '2018-01-02')).toBe(true);

    expect(() => spx.isWeekEnd('2020-04-17', '2020-04-17')).toThrow('next session 2020-04-17 is not after 2020-04-17');
  });

  it('prefers its own next session over the hint', () => {
    expect(spx.isWeekEnd('2000-04-20', '2000-04-21')).toBe(true);
    expect(spx.isMonthEnd('2000-03-30', '2000-04-03')).toBe(false);
  });
});

describe('TradingCalendar construction', () => {
  it('builds from bars of several symbols in any order', () => {
    const bar = (symbol: string, date: string) => ({ symbol, date, open: 1, high: 1, low: 1, close: 1, volume: 0 });
    const calendar = TradingCalendar.fromBars([bar('B', '2020-01-03'), bar('A', '2020-01-02'), bar('B', '2020-01-02')]);
    expect(calendar.sessions).toEqual(['2020-01-02', '2020-01-03']);
  });

  it('refuses unsorted, repeated or malformed sessions', () => {
    expect(() => new TradingCalendar(['2020-01-03', '2020-01-02'])).toThrow(
      'sessions must be strictly ascending: 2020-01-03 then 2020-01-02',
    );
    expect(() => new TradingCalendar(['2020-01-02', '2020-01-02'])).toThrow('strictly ascending');
    expect(() => new TradingCalendar(['2020-02-30'])).toThrow('not a calendar date (YYYY-MM-DD): "2020-02-30"');
  });
});
