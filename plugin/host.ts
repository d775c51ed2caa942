/**
 * The host contract: the single seam between the plugin and a trading/backtest platform.
 * Types only. A platform implements it once; `adapters/standalone` is the reference implementation.
 *
 * Live and backtest runs differ only in who emits `host:session-closed`: the platform's market
 * calendar, or a simulated clock releasing bars one session at a time.
 */
import type { DailyBar } from './bar.js';

/** The host API version this contract describes; manifest.json declares the range the plugin accepts. */
export type HostApiVersion = `${number}.${number}.${number}`;

/** Events the host emits and the plugin consumes. */
export interface HostEvents {
  /** A finished daily bar (live feed, or the simulated clock in a backtest). */
  'host:bar': (payload: { bar: DailyBar }) => void;
  /**
   * A trading session has closed: every bar dated `session` has been emitted. `nextSession`, when the
   * platform knows its exchange calendar, lets week/month/quarter ends be recognised before a holiday.
   */
  'host:session-closed': (payload: { session: string; nextSession?: string }) => void;
}

/** The event bus: eventemitter3's `on/off/emit` surface, shared by host and plugins. */
export interface EventBus {
  on(event: string, fn: (...args: any[]) => void, context?: unknown): unknown;
  off(event: string, fn?: (...args: any[]) => void, context?: unknown, once?: boolean): unknown;
  emit(event: string, ...args: unknown[]): boolean;
  listenerCount(event: string): number;
}

/**
 * Daily bars the host already has. The host owns the clock: it never returns a bar dated after its
 * last closed session, whatever `to` asks for. That is what makes a backtest unable to look ahead.
 */
export interface BarFeed {
  /** Symbols the host can serve. */
  symbols(): Promise<string[]>;
  /** Bars for `symbol` dated `from`..`to` inclusive (`YYYY-MM-DD`), ascending; an omitted end is open. */
  history(symbol: string, range: { from?: string; to?: string }): Promise<DailyBar[]>;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type HttpMethod = 'GET' | 'POST';

export interface RouteRequest {
  query: Record<string, string | undefined>;
  body: unknown;
  params: Record<string, string>;
  headers: Record<string, string | undefined>;
}

export interface RouteResponse {
  status: number;
  /** Sent as JSON, unless `contentType` is set. */
  body: unknown;
  /** When set, `body` is a string or Buffer sent as is with this Content-Type (HTML, scripts, styles). */
  contentType?: string;
  /** Headers the answer needs beyond the host's own, e.g. a page's Content-Security-Policy. */
  headers?: Record<string, string>;
}

/** A framework-neutral HTTP route; the host serves it under `path` (`:name` segments become `params`). */
export interface Route {
  method: HttpMethod;
  path: string;
  /** Mutating routes are `admin`: the host requires its admin credential before calling the handler. */
  access: 'public' | 'admin';
  /** JSON Schema of the input (query for GET, body for POST); the plugin validates, the host may too. */
  input?: object;
  handler(request: RouteRequest): Promise<RouteResponse>;
}

/** A UI panel the host mounts; the plugin serves its assets through its own routes. */
export interface Panel {
  id: string;
  title: string;
  /** Where the host links to: a path served by one of the plugin's routes. */
  path: string;
}

/** Undo a registration. */
export type Disposer = () => void;

/** What the platform gives a plugin on activation. */
export interface Host {
  apiVersion: HostApiVersion;
  bus: EventBus;
  bars: BarFeed;
  logger: Logger;
  /**
   * The host's clock: the wall clock live, the simulated session in a backtest. Signals measure their data's
   * age on it. Optional: without it the plugin uses the wall clock.
   */
  now?(): Date;
  registerRoute(route: Route): Disposer;
  registerPanel(panel: Panel): Disposer;
}

/** What every plugin module returns from its factory. */
export interface PluginInstance<Manifest = unknown> {
  manifest: Manifest;
  activate(host: Host): Promise<void>;
  deactivate(): Promise<void>;
}
