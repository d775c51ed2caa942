/**
 * Bounded waits on MySQL/MariaDB. TCP keeps a silent connection open for hours, so a server that hangs (or a
 * network that drops packets) would leave a query, and every request behind it, waiting with no end. mysql2's
 * own query timeout is not enough: it fails the query but keeps the connection, and the next query queued on
 * it has no timer until the stuck one finishes. Here a connection in use that the server leaves silent for
 * `query_ms` is destroyed: its query and any queued behind it fail with DatabaseUnavailableError, the pool
 * drops it and opens a fresh one (within `connect_ms`, mysql2's connect timeout) when the server is back.
 * mysql2's pool has no acquire timeout either: a caller waiting for a free connection longer than
 * `acquire_ms` fails the same way.
 */
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { DataSource } from 'typeorm';
import { DatabaseUnavailableError } from './errors.js';

interface PooledConnection {
  stream: Socket;
  release(): void;
}

type ConnectionCallback = (error: Error | null, connection?: PooledConnection) => void;

/**
 * Watches the pool of an initialised MySQL DataSource. The timer runs while a connection is handed out and
 * stops when it returns to the free list (mysql2's `acquire` and `release`; a connection passed straight to a
 * waiting caller stays handed out, so its timer keeps running).
 */
export function watchSilentConnections(dataSource: DataSource, database: string, queryMs: number): void {
  const pool = (dataSource.driver as unknown as { pool: EventEmitter }).pool;
  // Connections opened before this call (TypeORM's first) are watched from their next acquire, like any other.
  const watched = new WeakSet<Socket>();
  pool.on('acquire', ({ stream }: PooledConnection) => {
    if (!watched.has(stream)) {
      watched.add(stream);
      stream.on('timeout', () => stream.destroy(new DatabaseUnavailableError(database, `it did not answer for ${queryMs / 1000} s (db_timeouts.query_ms)`)));
    }
    stream.setTimeout(queryMs);
  });
  pool.on('release', ({ stream }: PooledConnection) => stream.setTimeout(0));
}

/**
 * Bounds the wait for a pooled connection of an initialised MySQL DataSource. The pool keeps the abandoned request
 * in its queue; the connection it eventually hands to it goes straight back.
 */
export function boundAcquire(dataSource: DataSource, database: string, acquireMs: number): void {
  const pool = (dataSource.driver as unknown as { pool: { getConnection(callback: ConnectionCallback): void } }).pool;
  const getConnection = pool.getConnection.bind(pool);
  pool.getConnection = (callback) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      callback(new DatabaseUnavailableError(database, `no connection came free within ${acquireMs / 1000} s (db_timeouts.acquire_ms)`));
    }, acquireMs);
    getConnection((error, connection) => {
      if (settled) return connection?.release();
      settled = true;
      clearTimeout(timer);
      callback(error, connection);
    });
  };
}
