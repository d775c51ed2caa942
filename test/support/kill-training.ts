/** Crashes the training process a queue in this test process has forked, as a kill -9 would. */
import { execFileSync } from 'node:child_process';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills this process's training worker with SIGKILL once it has been forked. */
export async function killTrainingProcess(): Promise<void> {
  for (;;) {
    try {
      const pid = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'training-worker'], { encoding: 'utf8' }).trim();
      process.kill(Number(pid), 'SIGKILL');
      return;
    } catch {
      await sleep(20); // not forked yet
    }
  }
}
