/** `lstm-signals migrate`: apply, list or revert the schema migrations on the configured database. */
import type { Command } from 'commander';
import { redactUrl } from '../../../plugin/store/database-url.js';
import { databaseUrl, dbOption } from '../options.js';

interface MigrateOptions {
  db?: string;
  status?: boolean;
  revert?: boolean;
  all?: boolean;
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('create or update the plugin tables (runs every pending migration, each in a transaction)')
    .addOption(dbOption())
    .option('--status', 'list applied and pending migrations; change nothing')
    .option('--revert', 'revert the latest applied migration (drops what it created)')
    .option('--all', 'with --revert: revert every migration, dropping all plugin tables')
    .action(async (options: MigrateOptions) => {
      const { Store } = await import('../../../plugin/store/store.js');
      const url = databaseUrl(options.db);
      const store = await Store.open({ url, migrate: false });
      try {
        const where = url ? redactUrl(url) : 'the embedded SQLite file';
        if (options.status) {
          for (const name of await store.executedMigrations()) console.log(`applied  ${name}`);
          for (const name of await store.pendingMigrations()) console.log(`pending  ${name}`);
        } else if (options.revert) {
          let reverted: string | undefined;
          do {
            reverted = await store.revertLast();
            if (reverted) console.log(`reverted ${reverted} on ${where}`);
          } while (options.all && reverted);
        } else {
          const applied = await store.migrate();
          console.log(applied.length ? applied.map((name) => `applied  ${name}`).join('\n') : `schema up to date on ${where}`);
        }
      } finally {
        await store.close();
      }
    });
}
