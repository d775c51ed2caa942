/**
 * Which sessions each followed symbol has been processed for (`lstm_session_run`). A session close records
 * `started`, then `done` once prediction, backfill, trigger and alerts are stored; one that never reaches `done`
 * (the process killed, the database unavailable) is found here by the next session close and processed again.
 */
import { LessThan } from 'typeorm';
import { isDuplicateKey } from '../store/errors.js';
import type { Store } from '../store/store.js';

export class SessionRuns {
  constructor(
    private readonly store: Store,
    private readonly predictionSet: string,
  ) {}

  /** Records one more attempt at `session`. */
  async start(symbol: string, session: string): Promise<void> {
    const repo = this.store.repos.sessionRun;
    const key = { prediction_set: this.predictionSet, symbol, session };
    const row = await repo.findOneBy(key);
    if (row) {
      await repo.update({ id: row.id }, { status: 'started', attempts: row.attempts + 1, error: null, updated_at: new Date() });
      return;
    }
    try {
      await repo.insert({ ...key, status: 'started', attempts: 1, error: null, updated_at: new Date() });
    } catch (error) {
      // Another process began the same session a moment earlier: count this attempt on its row.
      if (!isDuplicateKey(error)) throw error;
      await this.start(symbol, session);
    }
  }

  async finish(symbol: string, session: string, error?: string): Promise<void> {
    await this.store.repos.sessionRun.update(
      { prediction_set: this.predictionSet, symbol, session },
      { status: error === undefined ? 'done' : 'failed', error: error ?? null, updated_at: new Date() },
    );
  }

  /**
   * The sessions among `stored` (the symbol's stored sessions, ascending) before `session` that are owed a run:
   * those after the last one done, or — never one done — from the first one attempted. A symbol never processed
   * owes nothing: its history is not replayed.
   */
  async owed(symbol: string, stored: readonly string[], session: string): Promise<string[]> {
    // Two rows at most, by the (set, symbol, session) index: this runs at every session close, for years of them.
    const repo = this.store.repos.sessionRun;
    const earlier = { prediction_set: this.predictionSet, symbol, session: LessThan(session) };
    const lastDone = (await repo.findOne({ where: { ...earlier, status: 'done' }, order: { session: 'DESC' }, select: { session: true } }))?.session;
    if (lastDone) return stored.filter((d) => d > lastDone && d < session);
    const first = (await repo.findOne({ where: earlier, order: { session: 'ASC' }, select: { session: true } }))?.session;
    return first ? stored.filter((d) => d >= first && d < session) : [];
  }
}
