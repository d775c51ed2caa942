/** Every migration, oldest first. Listed explicitly so they load the same under tsx, vitest and a build. */
import { InitialSchema1763700000000 } from './1763700000000-InitialSchema.js';
import { RuntimeTables1763800000000 } from './1763800000000-RuntimeTables.js';
import { Backtests1763900000000 } from './1763900000000-Backtests.js';
import { LiveSkill1764000000000 } from './1764000000000-LiveSkill.js';
import { Utf8mb4Tables1764100000000 } from './1764100000000-Utf8mb4Tables.js';
import { AlertRetries1764300000000 } from './1764300000000-AlertRetries.js';
import { SessionRuns1764400000000 } from './1764400000000-SessionRuns.js';
import { SharedJobs1764500000000 } from './1764500000000-SharedJobs.js';
import { CandidateVersions1764600000000 } from './1764600000000-CandidateVersions.js';
import { FoldTasks1764700000000 } from './1764700000000-FoldTasks.js';

export const migrations = [InitialSchema1763700000000, RuntimeTables1763800000000, Backtests1763900000000, LiveSkill1764000000000, Utf8mb4Tables1764100000000, AlertRetries1764300000000, SessionRuns1764400000000, SharedJobs1764500000000, CandidateVersions1764600000000, FoldTasks1764700000000];
