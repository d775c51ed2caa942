/**
 * The README's Troubleshooting section shows what the CLI prints: each `console` block there is run, command by
 * command, in a fresh folder, and its output and exit code compared with the text (time stamps, the folder and
 * the day in file names aside).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

const README = readFileSync(path.join(import.meta.dirname, '../README.md'), 'utf8');
/** The folder the README's example output was printed in. */
const SHOWN_FOLDER = '/home/me/trading';

interface Step {
  command: string;
  exitCode: number;
  expected: string;
}

/** The `console` blocks of the Troubleshooting section, each as its `$` commands with the output under them. */
function troubleshootingBlocks(): Step[][] {
  const section = README.slice(README.indexOf('\n## Troubleshooting\n'), README.indexOf('\n## ', README.indexOf('\n## Troubleshooting\n') + 1));
  return [...section.matchAll(/```console\n([\s\S]*?)```/g)].map(([, body]) => {
    const steps: Step[] = [];
    for (const line of body!.trimEnd().split('\n')) {
      const command = line.match(/^\$ (.+?)(?:\s+# exit code (\d))?$/);
      if (command) steps.push({ command: command[1]!, exitCode: Number(command[2] ?? 0), expected: '' });
      else steps.at(-1)!.expected += `${line}\n`;
    }
    return steps;
  });
}

/** What may differ between the README's run and this one: the time, the day in a file name, the folder. */
function normalise(text: string, folder: string): string {
  return text
    .replaceAll(folder, SHOWN_FOLDER)
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g, '<time>')
    .replace(/weekly_runner_\d{8}\.log/g, 'weekly_runner_<day>.log');
}

describe("the README's Troubleshooting section", () => {
  const blocks = troubleshootingBlocks();

  it('has the blocks to check', () => {
    expect(blocks.map((steps) => steps.length)).toEqual([1, 7, 2]);
  });

  it.each(blocks.map((steps) => [steps.map((s) => s.command).join(' && '), steps] as const))('%s prints what the README shows', async (_name, steps) => {
    const folder = mkdtempSync(path.join(tmpdir(), 'lstm-readme-'));
    for (const step of steps) {
      if (!step.command.startsWith('npx lstm-signals ')) {
        execFileSync('sh', ['-c', step.command], { cwd: folder });
        continue;
      }
      const { code, stdout, stderr } = await runCli(step.command.slice('npx lstm-signals '.length).split(/\s+/), { cwd: folder });
      expect(normalise(stderr + stdout, folder), step.command).toBe(normalise(step.expected, folder));
      expect(code, step.command).toBe(step.exitCode);
    }
  });
});
