/** `lstm-signals health`: models, their ages, backend, last run and failures; non-zero exit when unhealthy. */
import type { Command } from 'commander';
import { withPlugin } from '../plugin-session.js';
import { dbOption, configOption } from '../options.js';

export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description('system status: each symbol’s current model, its age and checksum, training failures, the backend, the last weekly run. Exit 1 when unhealthy')
    .option('--output <dir>', 'folder the weekly run writes to (default: weekly.output_dir, ".")')
    .addOption(dbOption())
    .addOption(configOption())
    .option('--json', 'print the health report as JSON')
    .action(async (options: { output?: string; db?: string; config?: string; json?: boolean }) => {
      const health = await withPlugin(
        { configFile: options.config, db: options.db, config: options.output ? { weekly: { output_dir: options.output } } : {}, logLevel: 'error' },
        (plugin) => plugin.checkHealth(),
      );
      if (options.json) {
        console.log(JSON.stringify(health, null, 2));
      } else {
        console.log(`${health.healthy ? 'HEALTHY' : 'UNHEALTHY'} — backend ${health.backend.name}; last weekly run: ${health.last_run ? `${health.last_run.last_run} (${health.last_run.status})` : 'never'}`);
        for (const s of health.symbols) {
          const age = s.age_days === null ? '' : `, data ${s.age_days} days old at ${s.last_bar}`;
          console.log(`  ${s.healthy ? 'ok  ' : 'FAIL'} ${s.symbol}: ${s.version_id ?? 'no model'}${age}; ${s.training_failures} training failure(s)${s.healthy ? '' : ` — ${s.reason}`}`);
        }
        for (const problem of health.problems.filter((p) => !health.symbols.some((s) => s.reason === p))) console.log(`  ${problem}`);
      }
      if (!health.healthy) process.exitCode = 1;
    });
}
