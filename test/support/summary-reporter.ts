/**
 * Ends a test run with one plain `N passed, N failed, N skipped` line, readable by any CI log parser, and, when
 * the fault-injection suites (test/faults/) ran, a line per kind of fault: how many were tried and how many held.
 */
import type { Reporter, TestModule } from 'vitest/node';

/** `kill -9: a training …` → `kill -9`: the category a fault suite's top-level describe starts with. */
function faultCategory(fullName: string): string {
  const suite = fullName.split(' > ')[0]!;
  return suite.includes(':') ? suite.slice(0, suite.indexOf(':')) : suite;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0, pending: 0 };
    const faults = new Map<string, { tried: number; held: number }>();
    for (const module of testModules) {
      const isFaultSuite = module.moduleId.includes('/test/faults/');
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        counts[state]++;
        if (!isFaultSuite || state === 'skipped' || state === 'pending') continue;
        const row = faults.get(faultCategory(test.fullName)) ?? { tried: 0, held: 0 };
        row.tried++;
        if (state === 'passed') row.held++;
        faults.set(faultCategory(test.fullName), row);
      }
    }
    // A file that failed to load has no tests to count: count it as a failure.
    counts.failed += testModules.filter((m) => m.state() === 'failed' && [...m.children.allTests()].length === 0).length;
    if (faults.size > 0) {
      const width = Math.max(...[...faults.keys()].map((k) => k.length));
      process.stdout.write('\nfaults injected (test/faults/):\n');
      for (const [category, { tried, held }] of [...faults].sort(([a], [b]) => a.localeCompare(b))) {
        process.stdout.write(`  ${category.padEnd(width)}  tried ${tried}  held ${held}${held < tried ? '  NOT HELD' : ''}\n`);
      }
    }
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
