import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { migrations } from '../migrations/index.js';
import { resolveConfig } from '../plugin/config.js';
import { DEFAULT_DATABASE_TIMEOUTS, Store } from '../plugin/store/store.js';
import { TABLES } from '../plugin/store/entities.js';
import { BarStore } from '../plugin/store/bar-store.js';
import { createLatin1MysqlDatabase, createScratchMysqlDatabase, describeMysql, mysqlUrl, testDatabases, useTestStore, type TestDatabase } from './support/databases.js';

const ALL_TABLES = Object.values(TABLES).sort();
const MIGRATIONS = migrations.map((migration) => new migration().name);

async function tablesIn(store: Store): Promise<string[]> {
  const runner = store.dataSource.createQueryRunner();
  try {
    const present: string[] = [];
    for (const table of ALL_TABLES) if (await runner.hasTable(table)) present.push(table);
    return present;
  } finally {
    await runner.release();
  }
}

describe.each(testDatabases)('store on $name', (db) => {
  const testStore = useTestStore(db);


  it('creates every table, and the entities agree with the migrated schema exactly', async () => {
    expect(await tablesIn(testStore())).toEqual(ALL_TABLES);
    expect(await testStore().pendingMigrations()).toEqual([]);
    const diff = await testStore().dataSource.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('migrates down to nothing and up again', async () => {
    const accuracyColumns = async () => (await testStore().dataSource.createQueryRunner().getTable('lstm_accuracy_record'))!.columns.map((c) => c.name);
    expect(await accuracyColumns()).toEqual(expect.arrayContaining(['baselines_json', 'levels_covered']));
    // Later migrations are reverted first; the suites of their features test them.
    while ((await testStore().executedMigrations()).at(-1) !== 'Utf8mb4Tables1764100000000') await testStore().revertLast();
    // The tables of the first five migrations: SessionRuns added lstm_session_run, FoldTasks lstm_fold_task.
    const FIRST_FIVE_TABLES = ALL_TABLES.filter((t) => t !== 'lstm_session_run' && t !== 'lstm_fold_task');
    expect(await tablesIn(testStore())).toEqual(FIRST_FIVE_TABLES);
    expect(await testStore().revertLast()).toBe('Utf8mb4Tables1764100000000');
    expect(await tablesIn(testStore())).toEqual(FIRST_FIVE_TABLES);
    expect(await testStore().revertLast()).toBe('LiveSkill1764000000000');
    expect(await accuracyColumns()).not.toContain('baselines_json');
    expect(await accuracyColumns()).not.toContain('levels_covered');
    expect(await tablesIn(testStore())).toEqual(FIRST_FIVE_TABLES);
    expect(await testStore().revertLast()).toBe('Backtests1763900000000');
    expect(await testStore().revertLast()).toBe('RuntimeTables1763800000000');
    expect(await tablesIn(testStore())).toEqual(FIRST_FIVE_TABLES.filter((t) => !['lstm_backtest', 'lstm_training_lock', 'lstm_training_job', 'lstm_performance_check', 'lstm_trigger_decision'].includes(t)));
    expect(await testStore().revertLast()).toBe('InitialSchema1763700000000');
    expect(await tablesIn(testStore())).toEqual([]);
    expect(await testStore().revertLast()).toBeUndefined();
    expect(await testStore().pendingMigrations()).toEqual(MIGRATIONS);
    expect(await testStore().migrate()).toEqual(MIGRATIONS);
    expect(await tablesIn(testStore())).toEqual(ALL_TABLES);
    expect(await testStore().migrate()).toEqual([]);
  });

  it('round-trips a row of every entity', async () => {
    const { repos } = testStore();
    const at = new Date('2024-03-28T21:15:42.123Z');
    const blob = randomBytes(4096);

    await repos.bar.insert({ symbol: 'SPX', date: '2024-03-28', open: 5248.03, high: 5264.85, low: 5245.82, close: 5254.35, volume: 3_473_760_000 });
    expect(await repos.bar.findOneByOrFail({ symbol: 'SPX', date: '2024-03-28' })).toEqual({
      symbol: 'SPX', date: '2024-03-28', open: 5248.03, high: 5264.85, low: 5245.82, close: 5254.35, volume: 3_473_760_000,
    });

    const metadata = { feature_names: ['close_norm', 'rsi'], seq_len: 60, scaler: { mean: [1.5, -2e-7], std: [0.25, 1e-3] } };
    await repos.modelVersion.insert({
      version_id: 'SPX_20240328T211542_ab12', symbol: 'SPX', training_type: 'full', training_time: at,
      data_start: '2000-01-03', data_end: '2024-03-28', metadata_json: metadata, model_blob: blob,
      blob_bytes: blob.length, checksum: createHash('sha256').update(blob).digest('hex'),
    });
    const version = await repos.modelVersion.findOneByOrFail({ version_id: 'SPX_20240328T211542_ab12' });
    expect(version.model_blob).toBeUndefined(); // never loaded unless asked for
    // Saved without a status, a version is a candidate: only its recorded holdout decision deploys it.
    expect(version).toMatchObject({ symbol: 'SPX', training_type: 'full', data_start: '2000-01-03', data_end: '2024-03-28', blob_bytes: 4096, metadata_json: metadata, status: 'candidate' });
    expect(version.training_time.toISOString()).toBe('2024-03-28T21:15:42.123Z');
    expect(version.created_at).toBeInstanceOf(Date);
    const withBlob = await repos.modelVersion.findOneOrFail({
      where: { version_id: 'SPX_20240328T211542_ab12' },
      select: { version_id: true, model_blob: true },
    });
    expect(Buffer.compare(withBlob.model_blob!, blob)).toBe(0);

    await repos.currentVersion.insert({ symbol: 'SPX', version_id: 'SPX_20240328T211542_ab12', updated_at: at });
    expect(await repos.currentVersion.findOneByOrFail({ symbol: 'SPX' })).toEqual({ symbol: 'SPX', version_id: 'SPX_20240328T211542_ab12', updated_at: at });

    const run = await repos.trainingRun.save({
      version_id: 'SPX_20240328T211542_ab12', symbol: 'SPX', training_type: 'full', trigger_type: 'monthly',
      data_start: '2000-01-03', data_end: '2024-03-28', params_json: { lr: 0.0005, hidden: 32, epochs: 25 },
      metrics_json: { cv_f1: 0.54 }, validation_deployed: true, validation_reason: 'first model for SPX',
      holdout_metrics_json: { f1: 0.51, mse: 0.0012 }, duration_seconds: 12.5,
    });
    expect(await repos.trainingRun.findOneByOrFail({ id: run.id })).toMatchObject({
      version_id: 'SPX_20240328T211542_ab12', trigger_type: 'monthly', params_json: { lr: 0.0005, hidden: 32, epochs: 25 },
      validation_deployed: true, validation_reason: 'first model for SPX', holdout_metrics_json: { f1: 0.51, mse: 0.0012 }, duration_seconds: 12.5,
    });

    const prediction = await repos.predictionLog.save({
      symbol: 'SPX', predict_date: '2024-03-28', direction: 1, magnitude: 0.0123, prob_up: 0.61,
      model_version_id: 'SPX_20240328T211542_ab12', source: 'lstm', signal_json: { grade: 'BUY', confidence: 3 },
    });
    const logged = await repos.predictionLog.findOneByOrFail({ id: prediction.id });
    expect(logged).toMatchObject({ prediction_set: 'live', predict_date: '2024-03-28', direction: 1, magnitude: 0.0123, prob_up: 0.61, signal_json: { grade: 'BUY', confidence: 3 } });

    const accuracy = await repos.accuracyRecord.save({
      prediction_id: prediction.id, prediction_set: 'live', symbol: 'SPX', predict_date: '2024-03-28', actual_date: '2024-04-05',
      predicted_direction: 1, actual_direction: 0, predicted_magnitude: 0.0123, actual_magnitude: -0.0098,
      error_magnitude: 0.0221, direction_correct: false, model_version_id: 'SPX_20240328T211542_ab12', source: 'lstm',
      baselines_json: { majority: { prob_up: 0.58, direction: 1, expected_return: 0.004 }, arima: { prob_up: 0.58, direction: 1, expected_return: 0.004, answered: false } },
      levels_covered: true,
    });
    expect(await repos.accuracyRecord.findOneByOrFail({ id: accuracy.id })).toMatchObject({
      actual_date: '2024-04-05', actual_magnitude: -0.0098, error_magnitude: 0.0221, direction_correct: false, levels_covered: true,
      baselines_json: { majority: { prob_up: 0.58, direction: 1, expected_return: 0.004 }, arima: { answered: false } },
    });

    const failure = await repos.trainingFailure.save({ symbol: 'SPX', training_type: 'fast', trigger_type: 'manual', error_message: 'SPX: only 40 sessions' });
    expect(await repos.trainingFailure.findOneByOrFail({ id: failure.id })).toMatchObject({ error_message: 'SPX: only 40 sessions', trigger_type: 'manual' });

    const alert = await repos.alert.save({
      alert_type: 'low_accuracy', symbol: 'SPX', severity: 'warning', message: 'direction accuracy 0.41 < 0.5',
      details_json: { accuracy: 0.41 }, dedupe_key: 'low_accuracy:SPX', delivery_status: 'pending', last_error: null, delivered_at: null,
    });
    expect(await repos.alert.findOneByOrFail({ id: alert.id })).toMatchObject({ delivery_attempts: 0, details_json: { accuracy: 0.41 }, delivered_at: null });
  });

  it('refuses to delete the current version and to log the same prediction twice', async () => {
    await expect(testStore().repos.modelVersion.delete({ version_id: 'SPX_20240328T211542_ab12' })).rejects.toThrow();
    await expect(
      testStore().repos.predictionLog.insert({
        symbol: 'SPX', predict_date: '2024-03-28', direction: 0, magnitude: -0.01, prob_up: 0.4,
        model_version_id: 'SPX_20240328T211542_ab12', source: 'lstm', signal_json: null,
      }),
    ).rejects.toThrow();
    expect(await testStore().repos.predictionLog.countBy({ symbol: 'SPX' })).toBe(1);
  });

  it('ingests bars in one transaction, reporting revisions, and keeps all or nothing', async () => {
    const bars = new BarStore(testStore());
    const day = (date: string, close: number) => ({ symbol: 'ABC', date, open: close, high: close + 1, low: close - 1, close, volume: 1000 });
    expect(await bars.ingest([day('2024-01-02', 10), day('2024-01-03', 11)])).toEqual({ inserted: 2, revised: 0, unchanged: 0, revisions: [] });
    const second = await bars.ingest([day('2024-01-03', 11.5), day('2024-01-04', 12), day('2024-01-02', 10)]);
    expect(second).toMatchObject({ inserted: 1, revised: 1, unchanged: 1 });
    expect(second.revisions).toEqual([
      { symbol: 'ABC', date: '2024-01-03', field: 'open', stored: 11, incoming: 11.5 },
      { symbol: 'ABC', date: '2024-01-03', field: 'high', stored: 12, incoming: 12.5 },
      { symbol: 'ABC', date: '2024-01-03', field: 'low', stored: 10, incoming: 10.5 },
      { symbol: 'ABC', date: '2024-01-03', field: 'close', stored: 11, incoming: 11.5 },
    ]);
    // A batch that fails half-way (NaN violates NOT NULL on MySQL / a real-number check) stores nothing of itself.
    const poisoned = [day('2024-01-05', 13), { ...day('2024-01-08', 14), close: null as unknown as number }];
    await expect(bars.ingest(poisoned)).rejects.toThrow();
    expect((await bars.load('ABC')).map((b) => [b.date, b.close])).toEqual([
      ['2024-01-02', 10],
      ['2024-01-03', 11.5],
      ['2024-01-04', 12],
    ]);
    expect((await bars.load('ABC', { from: '2024-01-03', to: '2024-01-03' })).length).toBe(1);
    expect(await bars.coverage()).toContainEqual({ symbol: 'ABC', first: '2024-01-02', last: '2024-01-04', sessions: 3 });
  });
});

describe('database timeouts', () => {
  it('the configuration’s db_timeouts defaults are the store’s', () => {
    expect(resolveConfig().db_timeouts).toEqual(DEFAULT_DATABASE_TIMEOUTS);
    expect(resolveConfig({ db_timeouts: { query_ms: 5_000 } }).db_timeouts).toEqual({ ...DEFAULT_DATABASE_TIMEOUTS, query_ms: 5_000 });
  });
});

describeMysql('model blobs on MariaDB', () => {
  it('stores a 20 MB blob in LONGBLOB and reads it back byte-identical', async () => {
    const { url, drop } = await createScratchMysqlDatabase();
    const store = await Store.open({ url });
    try {
      const [{ packet }] = await store.dataSource.query('SELECT @@max_allowed_packet AS packet');
      expect(Number(packet), 'server max_allowed_packet must exceed the model size (docs/storage.md, MySQL / MariaDB)').toBeGreaterThan(64 * 1024 * 1024);
      const [{ DATA_TYPE }] = await store.dataSource.query(
        "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'lstm_model_version' AND COLUMN_NAME = 'model_blob'",
      );
      expect(DATA_TYPE).toBe('longblob');
      const blob = randomBytes(20 * 1024 * 1024);
      const checksum = createHash('sha256').update(blob).digest('hex');
      await store.repos.modelVersion.insert({
        version_id: 'BIG_1', symbol: 'BIG', training_type: 'full', training_time: new Date(), data_start: '2020-01-02',
        data_end: '2020-12-31', metadata_json: {}, model_blob: blob, blob_bytes: blob.length, checksum,
      });
      const back = await store.repos.modelVersion.findOneOrFail({ where: { version_id: 'BIG_1' }, select: { version_id: true, model_blob: true, checksum: true } });
      expect(back.model_blob!.length).toBe(blob.length);
      expect(createHash('sha256').update(back.model_blob!).digest('hex')).toBe(checksum);
      expect(back.model_blob!.equals(blob)).toBe(true);
    } finally {
      await store.close();
      await drop();
    }
  });
});

/** Characters a latin1 table cannot hold, as deploy reasons, alerts and signals write them. */
const UNICODE = '≥ ≤ × — “ ” 中文 😀';

const unicodeDatabases: Array<{ name: string; create: TestDatabase['create'] }> = [
  testDatabases[0]!,
  ...(mysqlUrl ? [{ name: 'a latin1 MariaDB database', create: createLatin1MysqlDatabase }] : []),
];

describe.each(unicodeDatabases)('text beyond latin1 on $name', (db) => {
  const testStore = useTestStore(db);

  it('stores and reads back every text column that code or users write', async () => {
    const { repos } = testStore();
    const t = (label: string) => `${label} ${UNICODE}`;
    const json = { note: t('json'), [UNICODE]: [UNICODE] };
    const at = new Date('2024-03-28T21:15:42.123Z');
    const version_id = 'SPX_1';
    await repos.modelVersion.insert({
      version_id, symbol: 'SPX', training_type: 'full', training_time: at, data_start: '2024-01-02', data_end: '2024-03-28',
      metadata_json: json, model_blob: Buffer.from([1]), blob_bytes: 1, checksum: 'x',
    });
    const run = await repos.trainingRun.save({
      version_id, symbol: 'SPX', training_type: 'full', trigger_type: 'monthly', data_start: null, data_end: null,
      params_json: json, metrics_json: json, validation_deployed: true, validation_reason: t('AUC 0.56 ≥ 0.5'),
      holdout_metrics_json: json, duration_seconds: 1,
    });
    const prediction = await repos.predictionLog.save({
      prediction_set: t('set'), symbol: 'SPX', predict_date: '2024-03-28', direction: 1, magnitude: 0.01, prob_up: 0.6,
      model_version_id: version_id, source: 'lstm', signal_json: json,
    });
    const accuracy = await repos.accuracyRecord.save({
      prediction_id: prediction.id, prediction_set: t('set'), symbol: 'SPX', predict_date: '2024-03-28', actual_date: '2024-04-05',
      predicted_direction: 1, actual_direction: 1, predicted_magnitude: 0.01, actual_magnitude: 0.02, error_magnitude: 0.01,
      direction_correct: true, model_version_id: version_id, source: 'lstm', baselines_json: { [UNICODE]: { prob_up: 0.5, direction: 1, expected_return: 0 } }, levels_covered: null,
    });
    const failure = await repos.trainingFailure.save({ symbol: 'SPX', training_type: 'fast', trigger_type: 'manual', error_message: t('failure') });
    const alert = await repos.alert.save({
      alert_type: 'low_accuracy', symbol: 'SPX', severity: 'warning', message: t('message'), details_json: json,
      dedupe_key: t('key'), delivery_status: 'failed', last_error: t('error'), delivered_at: null,
    });
    await repos.trainingLock.insert({ symbol: 'SPX', owner: t('owner'), acquired_at: at, expires_at: at });
    const job = await repos.trainingJob.save({ symbol: 'SPX', training_type: 'full', trigger_type: 'manual', session: null, status: 'failed', error: t('job'), run_id: null, version_id: null, started_at: null, finished_at: null });
    const decision = await repos.triggerDecision.save({ symbol: 'SPX', session: '2024-03-28', trigger_type: null, training_type: null, reason: t('reason'), candidates_json: [UNICODE], job_id: null });
    await repos.backtest.insert({ name: t('bt'), symbols_json: [UNICODE], date_from: '2024-01-02', date_to: '2024-03-28', training_type: 'fast', sessions: 3, report_json: json });
    const sessionRun = await repos.sessionRun.save({ prediction_set: t('set'), symbol: 'SPX', session: '2024-03-28', status: 'failed', attempts: 2, error: t('session'), updated_at: at });
    const foldTask = await repos.foldTask.save({ job_id: job.id, task_key: t('key'), symbol: 'SPX', spec_json: json, status: 'done', worker: t('worker'), lease_expires_at: at, result_json: { f1: null, mse: 1.5e-4, probUpRaw: [0.25, 1 / 3] } });

    expect(await repos.modelVersion.findOneByOrFail({ version_id })).toMatchObject({ metadata_json: json });
    expect(await repos.trainingRun.findOneByOrFail({ id: run.id })).toMatchObject({ params_json: json, metrics_json: json, holdout_metrics_json: json, validation_reason: t('AUC 0.56 ≥ 0.5') });
    expect(await repos.predictionLog.findOneByOrFail({ id: prediction.id })).toMatchObject({ prediction_set: t('set'), signal_json: json });
    expect(await repos.accuracyRecord.findOneByOrFail({ id: accuracy.id })).toMatchObject({ prediction_set: t('set'), baselines_json: { [UNICODE]: { prob_up: 0.5 } } });
    expect(await repos.trainingFailure.findOneByOrFail({ id: failure.id })).toMatchObject({ error_message: t('failure') });
    expect(await repos.alert.findOneByOrFail({ id: alert.id })).toMatchObject({ message: t('message'), details_json: json, dedupe_key: t('key'), last_error: t('error') });
    expect(await repos.trainingLock.findOneByOrFail({ symbol: 'SPX' })).toMatchObject({ owner: t('owner') });
    expect(await repos.trainingJob.findOneByOrFail({ id: job.id })).toMatchObject({ error: t('job') });
    expect(await repos.triggerDecision.findOneByOrFail({ id: decision.id })).toMatchObject({ reason: t('reason'), candidates_json: [UNICODE] });
    expect(await repos.backtest.findOneByOrFail({ name: t('bt') })).toMatchObject({ symbols_json: [UNICODE], report_json: json });
    expect(await repos.sessionRun.findOneByOrFail({ id: sessionRun.id })).toMatchObject({ prediction_set: t('set'), error: t('session'), attempts: 2, updated_at: at });
    expect(await repos.foldTask.findOneByOrFail({ id: foldTask.id })).toMatchObject({ task_key: t('key'), spec_json: json, worker: t('worker'), lease_expires_at: at, result_json: { f1: null, mse: 1.5e-4, probUpRaw: [0.25, 1 / 3] } });
    // Emoji are told apart (a collation that folds them would find 😁 as 😀).
    expect(await repos.alert.countBy({ dedupe_key: t('key').replace('😀', '😁') })).toBe(0);
  });
});

describeMysql('utf8mb4 on MariaDB', () => {
  it('creates every table and text column of a latin1 database as utf8mb4', async () => {
    const { url, drop } = await createLatin1MysqlDatabase();
    const store = await Store.open({ url });
    try {
      expect(await nonUtf8mb4(store)).toEqual([]);
      const [{ charset }] = await store.dataSource.query('SELECT @@character_set_connection AS charset');
      expect(charset).toBe('utf8mb4');
    } finally {
      await store.close();
      await drop();
    }
  });

  it('converts the latin1 tables the first four migrations made, keeping their rows', async () => {
    const { url, drop } = await createLatin1MysqlDatabase();
    const unmigrated = await Store.open({ url, migrate: false });
    const old = new DataSource({ ...unmigrated.dataSource.options, migrations: migrations.slice(0, 4) });
    await old.initialize();
    await old.runMigrations({ transaction: 'each' });
    await old.destroy();
    await unmigrated.close();
    const latin1Text = 'café × naïve ±5 °C';
    const store = await Store.open({ url, migrate: false });
    try {
      expect(await nonUtf8mb4(store)).toContain('lstm_training_run.validation_reason latin1_swedish_ci');
      const run = await store.repos.trainingRun.save({
        version_id: null, symbol: 'SPX', training_type: 'full', trigger_type: 'manual', data_start: null, data_end: null, params_json: { note: latin1Text },
        metrics_json: null, validation_deployed: false, validation_reason: latin1Text, holdout_metrics_json: null, duration_seconds: 1,
      });
      expect(await store.migrate()).toEqual(MIGRATIONS.slice(4));
      expect(await nonUtf8mb4(store)).toEqual([]);
      expect(await store.repos.trainingRun.findOneByOrFail({ id: run.id })).toMatchObject({ validation_reason: latin1Text, params_json: { note: latin1Text } });
      await store.repos.trainingRun.update({ id: run.id }, { validation_reason: UNICODE });
      expect(await store.repos.trainingRun.findOneByOrFail({ id: run.id })).toMatchObject({ validation_reason: UNICODE });
      const diff = await store.dataSource.driver.createSchemaBuilder().log();
      expect(diff.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await store.close();
      await drop();
    }
  });
});

/** Tables and text columns of the store's database whose collation is not utf8mb4_bin. */
async function nonUtf8mb4(store: Store): Promise<string[]> {
  const tables: Array<{ name: string; collation: string }> = await store.dataSource.query(
    'SELECT TABLE_NAME AS name, TABLE_COLLATION AS collation FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
  );
  const columns: Array<{ name: string; collation: string }> = await store.dataSource.query(
    "SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME) AS name, COLLATION_NAME AS collation FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND COLLATION_NAME IS NOT NULL",
  );
  return [...tables, ...columns].filter((t) => t.collation !== 'utf8mb4_bin').map((t) => `${t.name} ${t.collation}`);
}
