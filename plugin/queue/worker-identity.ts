/**
 * Who runs a job or holds a lock: `host:pid:start`, where start is the process's start time. With the start time a
 * recycled pid is not mistaken for the process that died; on the same host, a dead holder is seen at once instead
 * of after its lease.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** The start of process `pid` in clock ticks since boot (Linux), or null where /proc does not say. */
function startTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may hold spaces and parentheses, so count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

const SELF = `${hostname()}:${process.pid}:${startTicks(process.pid) ?? Date.now()}`;

/** This process's identity. */
export function workerId(): string {
  return SELF;
}

/** True when `id` names a process on this host that no longer runs (or whose pid now belongs to another process). */
export function isDeadLocalWorker(id: string): boolean {
  const match = /^(.*):(\d+):(\d+)$/.exec(id);
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  const ticks = startTicks(pid);
  if (ticks !== null) return ticks !== match[3];
  try {
    process.kill(pid, 0);
    // Alive, and without /proc its start cannot be compared: trust the lease.
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The worker part of a lock owner `WORKER job ID`. */
export function ownerWorker(owner: string): string {
  return owner.split(' job ')[0]!;
}
