/**
 * Skill as text for the terminal, shared by `lstm-signals skill` and the backtest report. The project's rule
 * holds in every line: a hit rate is printed with its n and its Wilson 95% interval, beside the baselines on
 * the same sessions — never alone.
 */
import {
  FORECAST_DAYS,
  type Calibration,
  type ForecasterSkill,
  type Interval,
  type LiveSkillReport,
  type ModelSkill,
  type RunSkill,
  type SkillReport,
  type SkillTable,
} from '../../plugin/index.js';

// ---- numbers ----------------------------------------------------------------------------------------------

/** 0.575 → "57.5%". */
export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
/** "[50.8%, 64.1%]". */
export const interval = (i: Interval): string => `[${pct(i.low)}, ${pct(i.high)}]`;
/** "57.5% [50.8%, 64.1%]". */
export const rateWithInterval = (rate: number, i: Interval): string => `${pct(rate)} ${interval(i)}`;
/** "+0.012" / "−0.012" (the minus sign of the core's texts); "n/a" for null. */
export const signed = (x: number | null, digits = 3): string => (x === null ? 'n/a' : `${x < 0 ? '−' : '+'}${Math.abs(x).toFixed(digits)}`);
/** A p-value: three decimals, "<0.001" below. */
export const pValue = (p: number): string => (p < 0.001 ? '<0.001' : p.toFixed(3));
/** Brier score, log loss, ECE: three decimals. */
export const score = (x: number): string => x.toFixed(3);
const signedPct = (x: number) => `${x < 0 ? '−' : '+'}${(Math.abs(x) * 100).toFixed(2)}%`;
const when = (d: Date | string) => new Date(d).toISOString().slice(0, 16).replace('T', ' ');

// ---- tables -----------------------------------------------------------------------------------------------

interface Column {
  header: string;
  /** Numbers right-aligned, names left-aligned. */
  right?: boolean;
}

/** Fixed-width columns, each as wide as its widest cell, two spaces apart; `indent` before every line. */
export function textTable(columns: readonly Column[], rows: readonly string[][], indent = '  '): string[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    indent + cells.map((cell, i) => (columns[i]!.right ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}

const SKILL_COLUMNS: Column[] = [
  { header: 'forecaster' },
  { header: 'n', right: true },
  { header: 'hit rate [95% interval]' },
  { header: 'Brier', right: true },
  { header: 'Brier skill', right: true },
  { header: 'log loss', right: true },
  { header: 'IC', right: true },
  { header: 'AUC', right: true },
  { header: 'McNemar b/c', right: true },
  { header: 'p', right: true },
  { header: 'Brier diff. [95% interval]' },
  { header: 'p', right: true },
];

function forecasterCells(f: ForecasterSkill, name: string): string[] {
  return [name, String(f.n), rateWithInterval(f.hit_rate, f.hit_rate_interval), score(f.brier), signed(f.brier_skill), score(f.log_loss), signed(f.ic), f.discrimination ? score(f.discrimination.auc) : 'n/a'];
}

/**
 * A skill table: its sessions, then one row per forecaster (the subject first, then each baseline with the
 * paired tests against the subject); `*` marks the best baseline. A baseline that did not answer every session
 * itself (ARIMA, where the majority stood in) gets a line saying how often it did.
 */
export function formatSkillTable(title: string, table: SkillTable, indent = '  '): string[] {
  const rows = [
    forecasterCells(table.subject, table.subject.name),
    ...table.baselines.map((b) => {
      const pair = table.paired.find((p) => p.baseline === b.name);
      const d = pair?.brier_difference;
      return [
        ...forecasterCells(b, b.name === table.best_baseline.name ? `${b.name} *` : b.name),
        pair ? `${pair.mcnemar.b}/${pair.mcnemar.c}` : '',
        pair ? pValue(pair.mcnemar.p_value) : '',
        d ? `${signed(d.mean, 4)} [${signed(d.interval.low, 4)}, ${signed(d.interval.high, 4)}]` : '',
        d ? pValue(d.p_value) : '',
      ];
    }),
  ];
  const partial = table.baselines.filter((b) => b.answered < b.n);
  return [
    `${title}: ${table.from}..${table.to}, ${table.n} sessions, up-rate ${pct(table.up_rate)}, reference base rate ${pct(table.reference_base_rate)}`,
    ...textTable(SKILL_COLUMNS, rows, indent),
    ...partial.map((b) => `${indent}${b.name} answered ${b.answered} of ${b.n} sessions itself; the majority stood in for the rest`),
  ];
}

/** What the skill tables' columns mean: printed once under them. */
export const SKILL_LEGEND = [
  `hit rate: share of sessions whose direction ${FORECAST_DAYS} sessions ahead was right, with its Wilson 95% interval; * = the best baseline (highest hit rate on the same sessions)`,
  'Brier skill: 1 − Brier / Brier of the reference base rate (> 0 beats it); IC: Spearman rank correlation of expected with realised return; AUC: how often P(up) ranked an up-session above a down-session (0.5 = chance)',
  'McNemar b/c: sessions the subject got right and the baseline wrong / the reverse, exact two-sided p; Brier diff.: subject − baseline per session (negative = the subject better), block-bootstrap interval and p',
];

// ---- live skill -------------------------------------------------------------------------------------------

/**
 * A prediction set's live skill for one symbol: everything served beside every baseline, per source, one line
 * per model version, the calibration of the served probabilities and the realised coverage of the conformal
 * levels. Says in words what has no data.
 */
export function formatLiveSkill(live: LiveSkillReport): string[] {
  const set = live.prediction_set;
  if (live.records === 0) return [`no backfilled predictions of ${live.symbol} in set ${set} yet`];
  const lines: string[] = [];
  const left = live.without_baselines;
  lines.push(
    `${live.records} backfilled prediction(s) of ${live.symbol} in set ${set}` +
      (left ? `; ${left} written before baselines were kept, left out of the tables` : ''),
  );
  if (!live.served) {
    lines.push(`no backfilled prediction of ${live.symbol} in set ${set} has its baselines: no skill table`);
  } else {
    lines.push(...formatSkillTable('served signals', live.served));
    const sources = Object.entries(live.by_source);
    if (sources.length === 1) {
      lines.push(`by source: all ${sources[0]![1].n} from ${sources[0]![0]} (the table above)`);
    } else {
      for (const [source, table] of sources) lines.push(...formatSkillTable(`source ${source}`, table));
    }
    const versions = Object.entries(live.by_version);
    if (versions.length === 0) {
      lines.push('by model version: no served signal came from an LSTM model version');
    } else {
      lines.push('by model version:');
      lines.push(
        ...textTable(
          [{ header: 'version' }, { header: 'n', right: true }, { header: 'hit rate [95% interval]' }, { header: 'best baseline' }, { header: 'its hit rate [95% interval]' }, { header: 'Brier skill', right: true }],
          versions.map(([version, t]) => {
            const best = t.baselines.find((b) => b.name === t.best_baseline.name)!;
            return [version, String(t.n), rateWithInterval(t.subject.hit_rate, t.subject.hit_rate_interval), best.name, rateWithInterval(best.hit_rate, best.hit_rate_interval), signed(t.subject.brier_skill)];
          }),
        ),
      );
    }
  }
  const c = live.calibration;
  lines.push(
    c
      ? `calibration of the served probabilities (n ${c.n}): ECE raw ${score(c.ece_raw)}, calibrated ${score(c.ece_calibrated)}`
      : `calibration: no backfilled prediction of ${live.symbol} in set ${set} with its baselines`,
  );
  const cov = live.coverage;
  lines.push(
    cov
      ? `conformal levels: the close ${FORECAST_DAYS} sessions ahead lay between stop-loss and take-profit in ${cov.covered} of ${cov.n}, ` +
          `${rateWithInterval(cov.realised, cov.interval)} vs nominal ${pct(cov.nominal)}`
      : `conformal levels: no backfilled signal of ${live.symbol} in set ${set} had levels with a stated coverage`,
  );
  return lines;
}

// ---- confidence -------------------------------------------------------------------------------------------

/**
 * Realised hit rate per confidence level, each with its n and interval, and beside it the up-rate of the same
 * sessions (what always answering "up" hit there) and the mean realised return.
 */
export function formatByConfidence(byConfidence: Calibration['by_confidence'], what: string): string[] {
  const buckets = Object.entries(byConfidence);
  if (buckets.every(([, b]) => b.n === 0)) return [`hit rate per confidence level: no backfilled ${what} with a signal yet`];
  return [
    `hit rate per confidence level (${what}); up-rate = the hit rate of always answering up on the same sessions:`,
    ...textTable(
      [{ header: 'confidence' }, { header: 'n', right: true }, { header: 'hit rate [95% interval]' }, { header: 'up-rate', right: true }, { header: `mean ${FORECAST_DAYS}-day return`, right: true }],
      buckets.map(([level, b]) => [
        level,
        String(b.n),
        b.hit_rate === null ? '– (no predictions)' : rateWithInterval(b.hit_rate, b.hit_rate_interval),
        b.up_rate === null ? '–' : pct(b.up_rate),
        b.mean_actual_return === null ? '–' : signedPct(b.mean_actual_return),
      ]),
    ),
  ];
}

// ---- the skill command ------------------------------------------------------------------------------------

function verdictWord(passed: boolean): string {
  return passed ? 'skill shown' : 'no skill shown';
}

function formatTraining(report: SkillReport): string[] {
  const t = report.training;
  if (!t) return [`latest training: no full or fast training of ${report.symbol} with a skill measure recorded (lstm-signals train --symbol ${report.symbol})`];
  // Runs stored before a part was measured may lack it.
  const skill: Partial<RunSkill> = t.skill;
  const lines = [
    `latest training: run #${t.run_id}, ${t.training_type} (${t.trigger_type}), ${when(t.created_at)} UTC, version ${t.version_id ?? '–'}: ` +
      `${t.deployed ? 'deployed' : 'not deployed'}${t.reason ? ` — ${t.reason}` : ''}`,
  ];
  if (skill.gate) {
    const g = skill.gate;
    lines.push(
      `skill gate (${g.enabled ? 'on' : 'off: measured, the deploy rule alone decided'}; Brier skill above ${g.min_skill}, alpha ${g.alpha}): ${verdictWord(g.passed)} — ${g.reason}`,
    );
  }
  if (skill.holdout) lines.push(...formatSkillTable('holdout', skill.holdout));
  else lines.push('holdout: no skill table stored with this run');
  if (skill.out_of_fold) lines.push(...formatSkillTable('out of fold (raw probabilities, ARIMA not fitted)', skill.out_of_fold));
  else lines.push('out of fold: no skill table stored with this run');
  const cal = skill.calibration;
  if (cal) {
    lines.push(
      `calibration (${cal.method}, fitted on ${cal.out_of_fold_rows} out-of-fold rows): ECE out of fold raw ${score(cal.ece_out_of_fold_raw)}, ` +
        `calibrated ${score(cal.ece_out_of_fold_calibrated_in_sample)} (in sample for the map); holdout` +
        `${skill.holdout ? ` (n ${skill.holdout.n})` : ''} raw ${score(cal.ece_raw)}, calibrated ${score(cal.ece_calibrated)}`,
    );
  }
  const conf = skill.conformal;
  if (conf) {
    lines.push(
      `conformal levels (${conf.n} out-of-fold scores: ${signed(conf.lower, 2)}..${signed(conf.upper, 2)} × the volatility scale around the forecast): ` +
        `realised on the holdout ${conf.covered} of ${conf.sessions}, ${rateWithInterval(conf.realised_coverage, conf.interval)} vs nominal ${pct(conf.coverage)}`,
    );
  } else {
    lines.push('conformal levels: none (too few out-of-fold scores for the nominal coverage)');
  }
  const fallbacks = Object.entries(skill.fallbacks ?? {});
  if (fallbacks.length) {
    lines.push('fallback tiers on the same holdout, each against the other forecasters:');
    for (const [tier, s] of fallbacks) lines.push(`  ${tier}: ${modelSkillLine(s)}`, `    ${s.reason}`);
  }
  if (skill.comparison?.reason) lines.push(`against the incumbent: ${skill.comparison.reason}`);
  return lines;
}

function formatCurrent(report: SkillReport): string[] {
  if (!report.current_version_id) return [`current model: none for ${report.symbol}`];
  const c = report.current;
  if (!c) return [`current model ${report.current_version_id}: no skill measure stored with it (trained before skill was measured)`];
  const measured = c.measured_version_id && c.measured_version_id !== report.current_version_id ? ` (measured on ${c.measured_version_id}, its parent)` : '';
  return [`current model ${report.current_version_id}${measured}: ${modelSkillLine(c)}`, `  ${c.reason}`];
}

/** A stored skill measure (a model's or a fallback tier's) in one line. */
export function modelSkillLine(c: ModelSkill): string {
  return (
    `${verdictWord(c.passed)} on ${c.sample} ${c.from}..${c.to} — hit ${rateWithInterval(c.hit_rate, c.hit_rate_interval)} of ${c.n} vs best baseline ` +
    `${c.best_baseline.name} ${rateWithInterval(c.best_baseline.hit_rate, c.best_baseline.hit_rate_interval)} on the same sessions; ` +
    `Brier skill ${signed(c.brier_skill)} against the base rate ${pct(c.reference_base_rate)}; IC ${signed(c.ic)}`
  );
}

/** The whole `lstm-signals skill` report. */
export function formatSkillReport(report: SkillReport): string {
  const set = report.prediction_set;
  return [
    `${report.symbol}: skill against the naive baselines (prediction set ${set})`,
    '',
    ...formatCurrent(report),
    '',
    ...formatTraining(report),
    '',
    `live, prediction set ${set}:`,
    ...formatLiveSkill(report.live),
    '',
    ...formatByConfidence(report.by_confidence, `predictions of ${report.symbol} in set ${set}`),
    '',
    ...SKILL_LEGEND,
  ].join('\n');
}
