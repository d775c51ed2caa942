/**
 * Which sessions each followed symbol has been processed for (`lstm_session_run`). A session close records
 * `started`, then `done` once prediction, backfill, trigger and alerts are stored; one that never reaches `done`
 * (the process killed, the database unavailable) is found here by the next session close and processed again.
 */
import type { SessionRunRow } from '../store/entities.js';
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
    const runs = await this.store.repos.sessionRun.find({ where: { prediction_set: this.predictionSet, symbol }, select: { session: true, status: true } });
    const earlier = runs.filter((r) => r.session < session);
    if (earlier.length === 0) return [];
    const lastDone = maxSession(earlier.filter((r) => r.status === 'done'));
    const from = lastDone ?? minSession(earlier);
    return stored.filter((d) => d < session && (lastDone ? d > from : d >= from));
  }
}

const maxSession = (rows: Array<Pick<SessionRunRow, 'session'>>) => rows.reduce<string | undefined>((m, r) => (m === undefined || r.session > m ? r.session : m), undefined);
const minSession = (rows: Array<Pick<SessionRunRow, 'session'>>) => rows.reduce<string | undefined>((m, r) => (m === undefined || r.session < m ? r.session : m), undefined)!;
