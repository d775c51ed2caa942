/**
 * The standalone host: the reference implementation of the host contract, so the plugin runs with no
 * platform. Bars come from a BarSource; `closeSession` is the clock. Before the first `closeSession`
 * the clock stands at the source's last bar (live use); a backtest sets `now` to its start instead.
 */
import { EventEmitter } from 'eventemitter3';
import type { BarFeed, DailyBar, Disposer, Host, HostApiVersion, Logger, Panel, Route } from '../../plugin/index.js';
import type { BarSource } from '../bars/source.js';
import { createConsoleLogger } from './logger.js';

export interface StandaloneHostOptions {
  /** Where bars come from; none = an empty feed (commands that only read the database). */
  source?: BarSource;
  logger?: Logger;
  /** The last closed session; bars after it are invisible until `closeSession` releases them. */
  now?: string;
}

export class StandaloneHost implements Host {
  readonly apiVersion: HostApiVersion = '1.0.0';
  readonly bus = new EventEmitter();
  readonly logger: Logger;
  readonly bars: BarFeed;
  readonly routes: Route[] = [];
  readonly panels: Panel[] = [];
  private session: string | undefined;
  private readonly loaded = new Map<string, Promise<DailyBar[]>>();

  constructor(private readonly options: StandaloneHostOptions) {
    this.logger = options.logger ?? createConsoleLogger();
    this.session = options.now;
    this.bars = {
      symbols: async () => (options.source ? options.source.symbols() : []),
      history: async (symbol, range) => {
        const to = [range.to, this.session].filter((d): d is string => Boolean(d)).sort()[0];
        return (await this.allBars(symbol)).filter((b) => (!range.from || b.date >= range.from) && (!to || b.date <= to));
      },
    };
  }

  /** The clock's current session, or undefined when every bar of the source is history. */
  get currentSession(): string | undefined {
    return this.session;
  }

  /** The end of the current session's day (UTC) on a simulated clock; the wall clock when every bar is history. */
  now(): Date {
    return this.session ? new Date(`${this.session}T23:59:59.999Z`) : new Date();
  }

  registerRoute(route: Route): Disposer {
    this.routes.push(route);
    return () => removeItem(this.routes, route);
  }

  registerPanel(panel: Panel): Disposer {
    this.panels.push(panel);
    return () => removeItem(this.panels, panel);
  }

  /** Advances the clock to `session`: emits each symbol's bar for it, then `host:session-closed`. */
  async closeSession(session: string, nextSession?: string): Promise<void> {
    if (this.session && session <= this.session) throw new Error(`session ${session} is not after the current session ${this.session}`);
    this.session = session;
    for (const symbol of await this.bars.symbols()) {
      const bar = (await this.allBars(symbol)).find((b) => b.date === session);
      if (bar) this.bus.emit('host:bar', { bar });
    }
    this.bus.emit('host:session-closed', nextSession ? { session, nextSession } : { session });
  }

  /**
   * A symbol's bars from the source. Kept in memory only once a clock is set, where sessions are replayed from them;
   * without one each symbol is read when asked for, so a large source never sits in memory whole.
   */
  private allBars(symbol: string): Promise<DailyBar[]> {
    let bars = this.loaded.get(symbol);
    if (!bars) {
      const { source } = this.options;
      if (!source) throw new Error(`this host has no bar source: no bars for ${symbol}`);
      bars = source.load(symbol).then((result) => {
        if (result.problems.length > 0) this.logger.warn(`${symbol}: the source dropped ${result.rows - result.bars.length} invalid row(s)`);
        return result.bars;
      });
      if (this.session !== undefined) this.loaded.set(symbol, bars);
    }
    return bars;
  }
}

function removeItem<T>(list: T[], item: T): void {
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}
