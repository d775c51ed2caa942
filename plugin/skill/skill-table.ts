/**
 * How good a forecaster has been on a set of sessions, beside the baselines on the very same sessions:
 * hit rate with its Wilson 95% interval and n, Brier score and Brier skill score against the reference base
 * rate (the training rows' up-rate), log loss, the Spearman IC of expected against realised return, and a
 * paired test of the subject against each baseline — exact McNemar on the hits, and a block bootstrap of
 * the per-session Brier difference over non-overlapping FORECAST_DAYS-session blocks (consecutive
 * FORECAST_DAYS-session outcomes overlap, so sessions are not independent; blocks of that length are).
 */
import { FORECAST_DAYS } from '../training/constants.js';
import type { PointForecast } from './baselines.js';
import { blockBootstrapAuc, blockBootstrapMean, brierScore, brierSkillScore, logLoss, mcnemarExact, spearman, wilsonInterval, type Interval } from './stats.js';

/** What happened after a session: 1 = up over the next FORECAST_DAYS sessions, and the return. */
export interface RealisedOutcome {
  date: string;
  direction: number;
  return: number;
}

/** One forecaster's forecasts, aligned with the outcomes. */
export interface ForecastSeries {
  name: string;
  forecasts: readonly PointForecast[];
  /** Sessions it answered itself (default all). */
  answered?: number;
}

export interface ForecasterSkill {
  name: string;
  n: number;
  answered: number;
  hits: number;
  hit_rate: number;
  hit_rate_interval: Interval;
  brier: number;
  /** 1 − Brier / Brier of the reference base rate on the same sessions; > 0 = better than the base rate. */
  brier_skill: number | null;
  log_loss: number;
  /** Spearman rank correlation of expected with realised return; null when either is constant. */
  ic: number | null;
  /**
   * Whether P(up) tells up from down beyond chance: the AUC (0.5 tells nothing apart) with its block-bootstrap
   * interval and one-sided p of "AUC ≤ ½"; null when every session went the same way.
   */
  discrimination: { auc: number; interval: Interval; p_value: number } | null;
}

export interface PairedComparison {
  baseline: string;
  /** b = sessions the subject got right and the baseline wrong, c = the reverse; exact two-sided p. */
  mcnemar: { b: number; c: number; p_value: number };
  /** Mean per-session Brier(subject) − Brier(baseline): negative = the subject's probabilities were better. */
  brier_difference: { mean: number; interval: Interval; p_value: number; blocks: number };
}

export interface SkillTable {
  /** Which sessions: out_of_fold, holdout, or a prediction set's name. */
  sample: string;
  from: string;
  to: string;
  n: number;
  /** The base rate Brier skill is measured against: the majority baseline's P(up) (its mean, where it rolls with the sessions). */
  reference_base_rate: number;
  /** The up-rate these sessions turned out to have. */
  up_rate: number;
  subject: ForecasterSkill;
  baselines: ForecasterSkill[];
  paired: PairedComparison[];
  /** The baseline with the highest hit rate on these sessions. */
  best_baseline: { name: string; hit_rate: number; hit_rate_interval: Interval };
}

export const BOOTSTRAP_SAMPLES = 2000;
/** Fixed, so the same sessions always give the same report. */
const BOOTSTRAP_SEED = 20_240_607;
/**
 * Blocks of the AUC's bootstrap: a month of sessions. An LSTM's forecasts move slowly (its 60-session windows
 * overlap), so neighbouring forecasts are far from independent: with 5-session blocks, 3 of 16 trainings on
 * driftless noise found "significant" (p < 0.05) discrimination on their 63-session holdouts.
 */
export const AUC_BLOCK_SESSIONS = 20;
/** Fewest sessions that can show discrimination: ten of those blocks (a 63-session holdout is three). */
export const MIN_DISCRIMINATION_SESSIONS = 10 * AUC_BLOCK_SESSIONS;

function forecasterSkill(series: ForecastSeries, outcomes: readonly RealisedOutcome[], referenceBrier: number): ForecasterSkill {
  const probs = series.forecasts.map((f) => f.prob_up);
  const actual = outcomes.map((o) => o.direction);
  const hits = series.forecasts.filter((f, i) => f.direction === actual[i]).length;
  const n = outcomes.length;
  const brier = brierScore(probs, actual);
  return {
    name: series.name,
    n,
    answered: series.answered ?? n,
    hits,
    hit_rate: hits / n,
    hit_rate_interval: wilsonInterval(hits, n),
    brier,
    brier_skill: brierSkillScore(brier, referenceBrier),
    log_loss: logLoss(probs, actual),
    ic: spearman(series.forecasts.map((f) => f.expected_return), outcomes.map((o) => o.return)),
    discrimination: blockBootstrapAuc(probs, actual, { blockLength: AUC_BLOCK_SESSIONS, samples: BOOTSTRAP_SAMPLES, seed: BOOTSTRAP_SEED }),
  };
}

function paired(subject: ForecastSeries, baseline: ForecastSeries, outcomes: readonly RealisedOutcome[]): PairedComparison {
  const right = (series: ForecastSeries) => series.forecasts.map((f, i) => f.direction === outcomes[i]!.direction);
  const squared = (f: PointForecast, i: number) => (f.prob_up - outcomes[i]!.direction) ** 2;
  const differences = subject.forecasts.map((f, i) => squared(f, i) - squared(baseline.forecasts[i]!, i));
  return {
    baseline: baseline.name,
    mcnemar: mcnemarExact(right(subject), right(baseline)),
    brier_difference: blockBootstrapMean(differences, { blockLength: FORECAST_DAYS, samples: BOOTSTRAP_SAMPLES, seed: BOOTSTRAP_SEED }),
  };
}

/**
 * The subject and every baseline on the same `outcomes`. The baselines must include `majority`, whose P(up)
 * (the training rows' up-rate) is the reference of the Brier skill score.
 */
export function skillTable(sample: string, subject: ForecastSeries, baselines: readonly ForecastSeries[], outcomes: readonly RealisedOutcome[]): SkillTable {
  if (outcomes.length === 0) throw new RangeError(`skill of ${subject.name} on ${sample}: no sessions with a known outcome`);
  const reference = baselines.find((b) => b.name === 'majority');
  if (!reference) throw new RangeError(`skill of ${subject.name} on ${sample}: the majority baseline (the reference) is missing`);
  for (const series of [subject, ...baselines]) {
    if (series.forecasts.length !== outcomes.length) throw new RangeError(`${series.name} has ${series.forecasts.length} forecasts for ${outcomes.length} sessions`);
  }
  const referenceRates = reference.forecasts.map((f) => f.prob_up);
  const referenceBrier = brierScore(referenceRates, outcomes.map((o) => o.direction));
  const baselineSkill = baselines.map((b) => forecasterSkill(b, outcomes, referenceBrier));
  const best = baselineSkill.reduce((a, b) => (b.hit_rate > a.hit_rate ? b : a));
  return {
    sample,
    from: outcomes[0]!.date,
    to: outcomes[outcomes.length - 1]!.date,
    n: outcomes.length,
    reference_base_rate: referenceRates.reduce((a, b) => a + b, 0) / referenceRates.length,
    up_rate: outcomes.filter((o) => o.direction === 1).length / outcomes.length,
    subject: forecasterSkill(subject, outcomes, referenceBrier),
    baselines: baselineSkill,
    paired: baselines.map((b) => paired(subject, b, outcomes)),
    best_baseline: { name: best.name, hit_rate: best.hit_rate, hit_rate_interval: best.hit_rate_interval },
  };
}

export interface SkillGateSettings {
  /** Brier skill against the base rate must exceed this. */
  minSkill: number;
  /** Significance level of "significantly below the best baseline". */
  alpha: number;
}

export interface SkillVerdict {
  passed: boolean;
  reason: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const signed = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`);

const interval = ({ low, high }: Interval) => `[${pct(low)}, ${pct(high)}]`;

/** "holdout …: hit 57.5% [50.8%, 64.1%] of 226 vs best baseline majority 59.7% [53.2%, 65.9%]; Brier skill −0.280 against the base rate 61.0%; IC +0.010". */
export function describeSkill(table: SkillTable): string {
  const s = table.subject;
  const best = table.best_baseline;
  return (
    `${table.sample} ${table.from}..${table.to}: hit ${pct(s.hit_rate)} ${interval(s.hit_rate_interval)} of ${s.n} vs best baseline ` +
    `${best.name} ${pct(best.hit_rate)} ${interval(best.hit_rate_interval)}; Brier skill ${signed(s.brier_skill)} against the base rate ` +
    `${pct(table.reference_base_rate)}; IC ${signed(s.ic)}`
  );
}

/** Fewest sessions that can show skill: ten non-overlapping FORECAST_DAYS-session blocks for the bootstrap. */
export const MIN_SKILL_SESSIONS = 10 * FORECAST_DAYS;

/**
 * The skill gate. Shown skill needs evidence, not a lucky point estimate, and must come from telling sessions apart,
 * not from the market drifting away from the training base rate:
 * - on the holdout: at least MIN_SKILL_SESSIONS sessions, Brier skill against the base rate above `minSkill`, a hit
 *   rate not significantly below the best baseline's (exact McNemar, two-sided at `alpha`, counted only when the
 *   subject is the lower one), and an AUC above ½;
 * - discrimination shown where there is enough data for it: `evidence`, the same forecaster's out-of-fold rows when
 *   it has them (else the holdout itself), of at least MIN_DISCRIMINATION_SESSIONS sessions, must have an AUC above
 *   ½ by the block bootstrap at `alpha`. The AUC is
 *   rank-based, so a drift of the base rate, which can lift the Brier skill of a forecaster that knows nothing, does
 *   not count; a 63-session holdout alone is too short to show it. On 20 fast trainings on driftless noise the gate
 * passed 1, the holdout's point estimate alone (Brier skill > 0) 9; on 10 with a known edge it passed all
 * (`npm run bench -- --only skill`).
 */
export function skillVerdict(table: SkillTable, settings: SkillGateSettings, evidence: { sample: string; skill: ForecasterSkill } = { sample: table.sample, skill: table.subject }): SkillVerdict {
  const { subject, best_baseline: best } = table;
  const test = table.paired.find((p) => p.baseline === best.name)!;
  const p = (x: number) => x.toPrecision(2);
  const below = subject.hit_rate < best.hit_rate && test.mcnemar.p_value < settings.alpha;
  const found = evidence.skill.discrimination;
  const enough = evidence.skill.n >= MIN_DISCRIMINATION_SESSIONS;
  const discriminates = enough && found !== null && found.auc > 0.5 && found.p_value < settings.alpha;
  const aucText = (d: ForecasterSkill['discrimination']) => (d ? `AUC ${d.auc.toFixed(3)} [${d.interval.low.toFixed(3)}, ${d.interval.high.toFixed(3)}], p ${p(d.p_value)}` : 'AUC undefined: every session went the same way');
  const evidenceText = `${evidence.sample} (${evidence.skill.n} sessions): ${aucText(found)}`;
  const holdoutAuc = subject.discrimination?.auc ?? 0.5;
  const problems = [
    ...(table.n < MIN_SKILL_SESSIONS ? [`${table.n} sessions are too few to show skill (needs ${MIN_SKILL_SESSIONS})`] : []),
    ...(subject.brier_skill !== null && subject.brier_skill > settings.minSkill ? [] : [`Brier skill ${signed(subject.brier_skill)} is not above ${settings.minSkill}`]),
    ...(discriminates
      ? []
      : enough
        ? [`P(up) does not tell up from down beyond chance on ${evidenceText}, needs p < ${settings.alpha}`]
        : [`${evidence.sample} has ${evidence.skill.n} sessions, too few to show discrimination (needs ${MIN_DISCRIMINATION_SESSIONS}: ten ${AUC_BLOCK_SESSIONS}-session blocks)`]),
    ...(holdoutAuc > 0.5 ? [] : [`on the ${table.sample} P(up) ranks no better than chance (AUC ${holdoutAuc.toFixed(3)})`]),
    ...(below ? [`hit rate significantly below ${best.name} (McNemar p ${p(test.mcnemar.p_value)} < ${settings.alpha})`] : []),
  ];
  const facts = describeSkill(table);
  return problems.length === 0
    ? { passed: true, reason: `shown skill: ${facts}; discrimination on ${evidenceText}; not significantly below ${best.name} (McNemar p ${p(test.mcnemar.p_value)})` }
    : { passed: false, reason: `no skill shown: ${problems.join('; ')} (${facts})` };
}
