/**
 * The store: the one way the plugin reaches its database. Opens a TypeORM DataSource for the
 * configured URL, runs migrations, and hands out typed repositories.
 */
import { DataSource, type EntityManager, type EntitySchema, type Repository } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import { ConnectionLock, repositoryThrough } from './connection-lock.js';
import { describeTarget, parseDatabaseUrl, type DatabaseTarget } from './database-url.js';
import { buildEntities, type Entities } from './entities.js';
import { asUnavailable } from './errors.js';
import { withMigrationLock } from './migration-lock.js';
import { boundAcquire, watchSilentConnections } from './mysql-timeouts.js';
import { prepareSqliteFile } from './sqlite-file.js';
import { MYSQL_COLLATION, type Dialect } from './dialect.js';

export interface StoreOptions {
  /** `LSTM_DB_URL` form; undefined = the embedded default (SQLite file in cwd). */
  url?: string;
  /** Run pending migrations on open (default true). */
  migrate?: boolean;
  /** Bounds on waiting for the database; defaults in DEFAULT_DATABASE_TIMEOUTS. */
  timeouts?: Partial<DatabaseTimeouts>;
}

/** Field meanings: manifest.json, `contributes.configuration.properties.db_timeouts`. */
export interface DatabaseTimeouts {
  connect_ms: number;
  acquire_ms: number;
  query_ms: number;
  migration_lock_ms: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = { connect_ms: 10_000, acquire_ms: 10_000, query_ms: 30_000, migration_lock_ms: 120_000 };

type RowOf<E> = E extends EntitySchema<infer T> ? T : never;
export type Repositories = { [K in keyof Entities]: Repository<RowOf<Entities[K]>> };

function dataSourceFor(target: DatabaseTarget, entities: Entities, timeouts: DatabaseTimeouts): DataSource {
  const common = { entities: Object.values(entities), migrations, migrationsTableName: 'lstm_migrations', synchronize: false, logging: false };
  if (target.dialect === 'sqlite') {
    return new DataSource({
      ...common,
      type: 'better-sqlite3',
      database: target.file,
      // WAL lets a second process read while this one writes.
      enableWAL: target.file !== ':memory:',
      timeout: 10_000,
    });
  }
  return new DataSource({
    ...common,
    type: 'mysql',
    host: target.host,
    port: target.port,
    username: target.username,
    password: target.password,
    database: target.database,
    // Session dates stay 'YYYY-MM-DD' strings; timestamps are UTC Date objects.
    dateStrings: ['DATE'],
    timezone: 'Z',
    // utf8mb4 whatever the server's default: the connection's collation, as mysql2 names it.
    charset: MYSQL_COLLATION,
    connectTimeout: timeouts.connect_ms,
  });
}

async function isMariaDb(dataSource: DataSource): Promise<boolean> {
  const [row] = (await dataSource.query('SELECT VERSION() AS version')) as Array<{ version: string }>;
  return /mariadb/i.test(row?.version ?? '');
}

/** `create()`'s DataSource, connected; a server that cannot be reached fails with DatabaseUnavailableError. */
async function initialized(target: DatabaseTarget, create: () => DataSource): Promise<DataSource> {
  try {
    const dataSource = await create().initialize();
    if (dataSource.options.type !== 'mysql' || !(await isMariaDb(dataSource))) return dataSource;
    // TypeORM reads MariaDB's information_schema differently (e.g. nullable defaults); it must know.
    await dataSource.destroy();
    return await new DataSource({ ...dataSource.options, type: 'mariadb' }).initialize();
  } catch (error) {
    throw asUnavailable(error, describeTarget(target));
  }
}

export class Store {
  readonly repos: Repositories;
  readonly dialect: Dialect;
  /** SQLite only: MySQL gives every transaction a pooled connection of its own. */
  private readonly lock: ConnectionLock | undefined;

  private constructor(
    readonly dataSource: DataSource,
    readonly target: DatabaseTarget,
    readonly entities: Entities,
    private readonly timeouts: DatabaseTimeouts,
  ) {
    const dialect = target.dialect;
    this.dialect = dialect;
    const lock = dialect === 'sqlite' ? new ConnectionLock() : undefined;
    this.lock = lock;
    const run = <R>(work: () => Promise<R>) => this.reachable(lock ? () => lock.run(work) : work);
    this.repos = Object.fromEntries(
      Object.entries(entities).map(([key, entity]) => [key, repositoryThrough(dataSource.getRepository(entity as EntitySchema), run)]),
    ) as unknown as Repositories;
  }

  static async open(options: StoreOptions = {}): Promise<Store> {
    const target = parseDatabaseUrl(options.url);
    if (target.dialect === 'sqlite' && target.file !== ':memory:') prepareSqliteFile(target.file);
    const entities = buildEntities(target.dialect);
    const timeouts = { ...DEFAULT_DATABASE_TIMEOUTS, ...options.timeouts };
    const dataSource = await initialized(target, () => dataSourceFor(target, entities, timeouts));
    if (target.dialect === 'mysql') {
      watchSilentConnections(dataSource, describeTarget(target), timeouts.query_ms);
      boundAcquire(dataSource, describeTarget(target), timeouts.acquire_ms);
    }
    const store = new Store(dataSource, target, entities, timeouts);
    try {
      if (options.migrate !== false) await store.migrate();
    } catch (error) {
      // A store that failed to open holds no connection: nothing keeps the process alive or the database busy.
      await store.close();
      throw error;
    }
    return store;
  }

  /**
   * Applies pending migrations under the database's migration lock (one process at a time; the others wait for it,
   * then find nothing left); returns the names applied. MySQL gives each migration its own transaction; on SQLite
   * the lock's transaction holds them all.
   */
  async migrate(): Promise<string[]> {
    const applied = await this.withMigrationDataSource((dataSource) =>
      withMigrationLock(dataSource, this.target, this.timeouts.migration_lock_ms, () =>
        dataSource.runMigrations({ transaction: this.dialect === 'sqlite' ? 'none' : 'each' }),
      ),
    );
    return applied.map((m) => m.name);
  }

  /**
   * Runs `work` on the DataSource migrations use. On MySQL that is one of their own, without the silent-connection
   * watch: an ALTER of a large table is silent for minutes, and the migration lock's connection idles throughout.
   */
  private async withMigrationDataSource<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
    if (this.lock) return this.reachable(() => this.lock!.run(() => work(this.dataSource)));
    const dataSource = await initialized(this.target, () => new DataSource(this.dataSource.options));
    try {
      return await this.reachable(() => work(dataSource));
    } finally {
      await dataSource.destroy();
    }
  }

  /** Names of migrations not yet applied. */
  async pendingMigrations(): Promise<string[]> {
    const executed = new Set((await this.executedMigrations()));
    return this.dataSource.migrations.map((m) => m.name ?? m.constructor.name).filter((name) => !executed.has(name));
  }

  async executedMigrations(): Promise<string[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      if (!(await runner.hasTable('lstm_migrations'))) return [];
      const rows: Array<{ name: string }> = await runner.manager
        .createQueryBuilder()
        .select('m.name', 'name')
        .from('lstm_migrations', 'm')
        .orderBy('m.id', 'ASC')
        .getRawMany();
      return rows.map((r) => r.name);
    } finally {
      await runner.release();
    }
  }

  /** Reverts the latest applied migration; returns its name, or undefined when none is applied. */
  async revertLast(): Promise<string | undefined> {
    const executed = await this.executedMigrations();
    if (executed.length === 0) return undefined;
    await this.withMigrationDataSource((dataSource) => dataSource.undoLastMigration({ transaction: 'each' }));
    return executed[executed.length - 1];
  }

  /**
   * Runs `work` in one transaction: all of it is stored, or none. On SQLite in WAL mode a transaction
   * that read before another process committed cannot write (SQLITE_BUSY_SNAPSHOT, which the busy
   * timeout does not cover); it is started again on a fresh snapshot, a few times.
   */
  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.reachable(() => (this.lock ? this.lock.run(() => this.dataSource.transaction(work)) : this.dataSource.transaction(work)));
      } catch (error) {
        const code = (error as { driverError?: { code?: string } }).driverError?.code ?? '';
        if (this.dialect !== 'sqlite' || !code.startsWith('SQLITE_BUSY') || attempt === 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      }
    }
  }

  /** Runs `work`, turning a server that cannot be reached or stopped answering into a DatabaseUnavailableError. */
  private async reachable<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw asUnavailable(error, describeTarget(this.target));
    }
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
