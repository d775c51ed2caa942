/**
 * `lstm-signals health`: models, their ages, the data's age on the wall clock, skill, backend, last run and
 * failures; non-zero exit when unhealthy (stale data included). Unskilled models are notes, not faults.
 */
import type { Command } from 'commander';
import { dbOption, configOption } from '../options.js';

export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .summary("each symbol's model, data age, skill and failures; exit 1 when unhealthy")
    .description(
      'system status: each symbol’s current model, its age and checksum, whether it has shown skill, the data’s age on the wall clock, ' +
        'training failures, the backend, the last weekly run. Exit 1 when unhealthy (a symbol whose latest bar is older than ' +
        'signals.max_data_age_days is unhealthy: its signals are stale)',
    )
    .option('--output <dir>', 'folder the weekly run writes to (default: weekly.output_dir, ".")')
    .addOption(dbOption())
    .addOption(configOption())
    .option('--json', 'print the health report as JSON')
    .action(async (options: { output?: string; db?: string; config?: string; json?: boolean }) => {
      const { withPlugin } = await import('../plugin-session.js');
      const health = await withPlugin(
        { configFile: options.config, db: options.db, config: options.output ? { weekly: { output_dir: options.output } } : {}, logLevel: 'error' },
        (plugin) => plugin.checkHealth(),
      );
      if (options.json) {
        console.log(JSON.stringify(health, null, 2));
      } else {
        console.log(`${health.healthy ? 'HEALTHY' : 'UNHEALTHY'} — backend ${health.backend.name}; last weekly run: ${health.last_run ? `${health.last_run.last_run} (${health.last_run.status})` : 'never'}`);
        for (const s of health.symbols) {
          // No model because the skill gate refused it is the gate at work (the base rate answers): not a fault.
          const modelFault = !s.healthy && s.skill_gate_refusal === null;
          const model = s.version_id ?? (s.skill_gate_refusal === null ? 'no model' : 'no model (the skill gate refused the latest)');
          const modelAge = s.age_days === null ? '' : `, model data ${s.age_days} days before ${s.last_bar}`;
          const skill = s.skill.shown === null ? 'skill never measured' : s.skill.shown ? 'skill shown' : 'no skill shown';
          const data = `last bar ${s.last_bar}, ${s.data_age_days} days ago${s.stale ? ' (STALE)' : ''}`;
          console.log(
            `  ${modelFault || s.stale ? 'FAIL' : 'ok  '} ${s.symbol}: ${model}${modelAge}; ${data}; ${skill}; ${s.training_failures} training failure(s)${modelFault ? ` — ${s.reason}` : ''}`,
          );
        }
        for (const problem of health.problems.filter((p) => !health.symbols.some((s) => s.reason === p))) console.log(`  ${problem}`);
        for (const note of health.notes) console.log(`  note: ${note}`);
      }
      if (!health.healthy) process.exitCode = 1;
    });
}
