/** Where daily bars come from before they reach the plugin: a CSV file or folder, a MySQL table. */
import type { BarValidationResult } from '../../plugin/index.js';

export interface BarSource {
  /** The symbols this source serves, sorted. */
  symbols(): Promise<string[]>;
  /** One symbol's rows, validated. Throws when the source has nothing for `symbol`. */
  load(symbol: string): Promise<BarValidationResult>;
  /** Releases connections, for sources that hold them. */
  close?(): Promise<void>;
}

export interface BarSourceOptions {
  /** Reject a symbol's whole series on any problem instead of dropping the bad rows. */
  strict: boolean;
  /** Serve only this symbol. A single CSV file holds one symbol: this names it. */
  symbol?: string;
}

/** Today's UTC date: a source has no clock but the wall clock, and no bar can be dated after it. */
export function wallClockToday(): string {
  return new Date().toISOString().slice(0, 10);
}
