/**
 * The embedded queue engine: no service beyond the database. A process that runs jobs looks for queued rows every
 * `poll_ms` (and whenever a job is queued or ends here), claims one with a conditional update only one claimant can
 * win, and holds it by a lease it renews. A worker that dies stops renewing: once its lease has run out — at once
 * when it ran on this host and its process is gone — another process queues the job again, or fails it, with the
 * reason, after `queue.max_attempts` starts.
 */
import { JobTableQueue, messageOf } from './job-table.js';

export class DatabaseTrainingQueue extends JobTableQueue {
  readonly engine = 'database' as const;
  private working = false;
  private timer: NodeJS.Timeout | undefined;
  private filling: Promise<void> | undefined;
  private fillAgain = false;

  /** Starts running jobs: now, every `poll_ms`, and whenever a job is queued or finished here. */
  startWorking(): void {
    if (this.working || this.closing) return;
    this.working = true;
    this.timer = setInterval(() => this.fill(), this.settings.poll_ms);
    this.fill();
    this.startHelping();
  }

  protected scheduled(): void {
    this.fill();
  }

  protected override ended(): void {
    this.fill();
  }

  protected async shutDown(release: boolean): Promise<void> {
    clearInterval(this.timer);
    await this.filling;
    await this.releaseRunning(release);
  }

  /** One pass at a time, and another pass when something changed meanwhile. */
  private fill(): void {
    if (!this.working || this.closing) return;
    if (this.filling) {
      this.fillAgain = true;
      return;
    }
    this.filling = this.recoverAndClaim()
      .catch((error: unknown) => this.logger?.warn('training queue: scheduling failed; trying again', { error: messageOf(error) }))
      .finally(() => {
        this.filling = undefined;
        if (this.fillAgain) {
          this.fillAgain = false;
          this.fill();
        }
      });
  }

  private async recoverAndClaim(): Promise<void> {
    const now = new Date();
    for (const job of await this.store.repos.trainingJob.find({ where: { status: 'running' } })) {
      const gone = this.goneWorker(job, now);
      if (gone) await this.abandon(job, gone);
    }
    const queued = await this.store.repos.trainingJob.find({ where: { status: 'queued' }, order: { id: 'ASC' }, take: 50 });
    // A symbol passed over keeps its later jobs waiting too: one symbol's jobs run in the order they came.
    const passedOver = new Set<string>();
    for (const job of queued) {
      if (this.closing || this.busy() >= this.concurrency) return;
      if (passedOver.has(job.symbol)) continue;
      passedOver.add(job.symbol);
      const claimed = await this.claim(job);
      if (claimed) void this.start(claimed.job, claimed.owner);
    }
  }
}
