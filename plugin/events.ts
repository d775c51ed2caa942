/** The events the plugin emits and consumes, with their payloads. manifest.json declares the same names. */
import type { BarProblem } from './bar.js';
import type { HostEvents } from './host.js';
import type { BarRevision } from './store/bar-store.js';

export interface BarsIngestedEvent {
  symbol: string;
  /** `history`: the feed's back history at activation; `live`: a bar from the live feed. */
  origin: 'history' | 'live';
  /** Rows received. */
  rows: number;
  inserted: number;
  revised: number;
  unchanged: number;
  /** Rows refused by validation (all of them when `rejected`). */
  dropped: number;
  /** Strict mode refused the whole batch. */
  rejected: boolean;
  problems: BarProblem[];
  revisions: BarRevision[];
}

export interface PluginEvents {
  'lstm:bars:ingested': BarsIngestedEvent;
}

export const EMITTED_EVENTS = ['lstm:bars:ingested'] as const satisfies ReadonlyArray<keyof PluginEvents>;
export const CONSUMED_EVENTS = ['host:bar'] as const satisfies ReadonlyArray<keyof HostEvents>;
