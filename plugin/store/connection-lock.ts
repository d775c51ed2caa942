/**
 * On SQLite one connection serves every query of a process (TypeORM shares a single query runner), so two async
 * flows writing at once run inside each other's transactions: TypeORM turns the second BEGIN into a SAVEPOINT of
 * the first, and one flow's COMMIT or ROLLBACK then ends the other's work ("cannot commit - no transaction is
 * active", or a write lost with someone else's rollback). With the lock, each repository call and each transaction
 * runs alone; code already inside a transaction (or a call) holds it and passes straight through.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Repository } from 'typeorm';

export class ConnectionLock {
  private tail: Promise<void> = Promise.resolve();
  private readonly holding = new AsyncLocalStorage<true>();

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.holding.getStore()) return work();
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise((resolve) => (release = resolve));
    await previous;
    try {
      return await this.holding.run(true, work);
    } finally {
      release();
    }
  }
}

/** Repository methods that query the database and return a promise; every other member is left as it is. */
const QUERYING = new Set([
  'find', 'findBy', 'findOne', 'findOneBy', 'findOneOrFail', 'findOneByOrFail', 'findAndCount', 'findAndCountBy', 'count', 'countBy',
  'exists', 'existsBy', 'sum', 'average', 'minimum', 'maximum', 'save', 'insert', 'update', 'upsert', 'delete', 'remove',
  'increment', 'decrement', 'query', 'clear',
]);

/** `repository` with every querying method run through `run` (under the lock, with errors translated). */
export function repositoryThrough<T extends object>(repository: Repository<T>, run: <R>(work: () => Promise<R>) => Promise<R>): Repository<T> {
  return new Proxy(repository, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || !QUERYING.has(property) || typeof value !== 'function') return value;
      return (...args: unknown[]) => run(() => value.apply(target, args));
    },
  });
}
