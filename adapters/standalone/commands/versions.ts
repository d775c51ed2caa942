/** `lstm-signals versions` and `rollback`: the model registry from the command line. */
import type { Command } from 'commander';
import type { ModelRegistry } from '../../../plugin/index.js';
import { databaseUrl, dbOption } from '../options.js';

async function withRegistry<T>(db: string | undefined, work: (registry: ModelRegistry) => Promise<T>): Promise<T> {
  const [{ Store }, { ModelRegistry }] = await Promise.all([import('../../../plugin/store/store.js'), import('../../../plugin/registry/model-registry.js')]);
  const store = await Store.open({ url: databaseUrl(db) });
  try {
    return await work(new ModelRegistry(store));
  } finally {
    await store.close();
  }
}

export function registerVersionCommands(program: Command): void {
  program
    .command('versions')
    .summary('list kept model versions (* = current)')
    .description('list kept model versions, newest first; * marks each symbol’s current version')
    .option('--symbol <symbol>', 'only this symbol')
    .addOption(dbOption())
    .option('--json', 'print {versions: [...]} as JSON')
    .action(async (options: { symbol?: string; db?: string; json?: boolean }) => {
      await withRegistry(options.db, async (registry) => {
        const versions = await registry.list(options.symbol);
        const current = new Set<string>();
        for (const symbol of new Set(versions.map((v) => v.symbol))) {
          const id = await registry.currentVersionId(symbol);
          if (id) current.add(id);
        }
        const rows = versions.map((v) => ({ ...v, current: current.has(v.version_id) }));
        if (options.json) return console.log(JSON.stringify({ versions: rows }, null, 2));
        for (const v of rows) {
          console.log(`${v.current ? '*' : ' '} ${v.version_id}  ${v.status.padEnd(9)} ${v.training_type.padEnd(11)} ${v.training_time.toISOString()}  data ${v.data_start}..${v.data_end}  ${v.blob_bytes} bytes`);
        }
      });
    });

  program
    .command('rollback')
    .summary('make a kept version the current one')
    .description('make a kept version the current one (its stored bytes are verified first)')
    .requiredOption('--symbol <symbol>', 'symbol')
    .requiredOption('--to <version>', 'version id, as `versions` lists it')
    .addOption(dbOption())
    .action(async (options: { symbol: string; to: string; db?: string }) => {
      await withRegistry(options.db, async (registry) => {
        const previous = await registry.promote(options.symbol, options.to);
        console.log(`${options.symbol}: current version ${options.to} (was ${previous ?? 'none'})`);
      });
    });
}
