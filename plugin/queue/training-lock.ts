/**
 * The per-symbol training lock, held in `lstm_training_lock` so that every process and machine sharing the
 * database sees it: at most one training per symbol runs anywhere. The row's primary key is the symbol, so
 * the database itself decides between two processes inserting at once. A holder that dies stops renewing;
 * once its lock has expired, the next process takes it over with a conditional update that only one
 * process can win; a holder on the same host whose process is gone is replaced at once. Times are the writers'
 * wall clocks: keep machines' clocks within a small fraction of the TTL of each other.
 */
import { LessThan } from 'typeorm';
import type { TrainingLockRow } from '../store/entities.js';
import { isDuplicateKey } from '../store/errors.js';
import type { Store } from '../store/store.js';
import { isDeadLocalWorker, ownerWorker } from './worker-identity.js';

export class TrainingLock {
  constructor(private readonly store: Store) {}

  /** Takes the symbol's lock for `ttlMs`; false when someone holds it and it has not expired. */
  async acquire(symbol: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = new Date();
    const lease = { owner, acquired_at: now, expires_at: new Date(now.getTime() + ttlMs) };
    try {
      await this.store.repos.trainingLock.insert({ symbol, ...lease });
      return true;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    // Held, or left behind by a holder that died: only an expired row may change hands, and only one taker's update matches.
    const taken = await this.store.repos.trainingLock.update({ symbol, expires_at: LessThan(now) }, lease);
    if (taken.affected === 1) return true;
    // A holder on this host whose process is gone is not waited for: its lock is taken over at once.
    const holder = await this.holder(symbol);
    if (!holder || !isDeadLocalWorker(ownerWorker(holder.owner))) return false;
    return (await this.store.repos.trainingLock.update({ symbol, owner: holder.owner }, lease)).affected === 1;
  }

  /** Extends the owner's lock by `ttlMs` from now; false when it is no longer the owner's (expired and taken over, or released). */
  async renew(symbol: string, owner: string, ttlMs: number): Promise<boolean> {
    const renewed = await this.store.repos.trainingLock.update({ symbol, owner }, { expires_at: new Date(Date.now() + ttlMs) });
    return renewed.affected === 1;
  }

  /** Releases the lock if `owner` holds it; another owner's lock is left alone. */
  async release(symbol: string, owner: string): Promise<boolean> {
    const released = await this.store.repos.trainingLock.delete({ symbol, owner });
    return released.affected === 1;
  }

  /** Who holds the symbol's lock now, expired or not. */
  holder(symbol: string): Promise<TrainingLockRow | null> {
    return this.store.repos.trainingLock.findOneBy({ symbol });
  }
}
