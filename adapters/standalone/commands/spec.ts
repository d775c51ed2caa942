/** `lstm-signals spec`: write the training specification generated from the code. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';

export function registerSpecCommand(program: Command): void {
  program
    .command('spec')
    .summary('write docs/LSTM_TRAINING_SPEC.md and .json from the code')
    .description('write docs/LSTM_TRAINING_SPEC.md and docs/LSTM_TRAINING_SPEC.json from the code’s own constants and defaults')
    .option('--out <dir>', 'output folder', 'docs')
    .action(async (options: { out: string }) => {
      const { trainingSpec, trainingSpecMarkdown } = await import('../../../plugin/training/spec.js');
      const spec = trainingSpec();
      await mkdir(options.out, { recursive: true });
      const json = path.join(options.out, 'LSTM_TRAINING_SPEC.json');
      const md = path.join(options.out, 'LSTM_TRAINING_SPEC.md');
      await writeFile(json, `${JSON.stringify(spec, null, 2)}\n`);
      await writeFile(md, trainingSpecMarkdown(spec));
      console.log(`wrote ${md} and ${json}`);
    });
}
