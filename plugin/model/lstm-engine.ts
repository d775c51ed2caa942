/**
 * The dual-head LSTM's forward pass, backpropagation through time and Adam update, computed directly: the matrix
 * products run in the SIMD kernels of gemm.wat, the gate arithmetic in plain loops. It computes what the tfjs
 * layers network computes (same weights, gate order i|f|c|o, hard-sigmoid gates, tanh, softmax cross-entropy
 * clipped at 1e-7 + mean squared error, tfjs's Adam) without tfjs's per-operation overhead, which dominates
 * at these sizes: a sequence of 60 steps is over a thousand small tensor operations per batch in tfjs.
 *
 * Layout: a batch of `nb` windows is stored time-major, so every per-step matrix is one contiguous block and
 * the input projection, the kernel gradients and the bias gradient are each one product over all steps.
 */
import { createGemm, type Gemm } from './kernels/gemm.js';

export interface NetworkShape {
  seqLen: number;
  nFeatures: number;
  hidden: number;
  horizon: number;
}

/**
 * The seven weights in tfjs order: LSTM kernel [F×4H], recurrent kernel [H×4H], bias [4H], direction kernel
 * [H×2], direction bias [2], returns kernel [H×horizon], returns bias [horizon].
 */
export type NetworkWeights = Float32Array[];

/** Adam's moments in the order of `NetworkWeights`, and the number of updates taken. */
export interface AdamState {
  iterations: number;
  m: Float32Array[];
  v: Float32Array[];
}

export interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export interface BatchLoss {
  crossEntropy: number;
  squaredError: number;
}

/** tfjs's epsilon: cross-entropy clips probabilities to [ε, 1 − ε]. */
const EPSILON = 1e-7;
const CLASSES = 2;

export function weightSizes({ nFeatures, hidden, horizon }: NetworkShape): number[] {
  const gates = 4 * hidden;
  return [nFeatures * gates, hidden * gates, gates, hidden * CLASSES, CLASSES, hidden * horizon, horizon];
}

/** tfjs's hard sigmoid, clip(0.2·z + 0.5, 0, 1), and its derivative from the activated value. */
const hardSigmoid = (z: number) => Math.min(1, Math.max(0, 0.2 * z + 0.5));
const hardSigmoidSlope = (y: number) => (y > 0 && y < 1 ? 0.2 : 0);

/**
 * Working memory for batches of up to `capacity` windows. A forward pass keeps what backpropagation needs, so a
 * training step is `forward` with targets, then `backward`, then `Adam.step` on `weights` and `gradients`.
 */
export class LstmEngine {
  readonly weights: NetworkWeights;
  readonly gradients: NetworkWeights;
  private readonly gemm: Gemm;
  private readonly f: Float32Array;
  private readonly at: Record<'x' | 'z' | 'h' | 'c' | 'tanhC' | 'dz' | 'dh' | 'ones' | 'w' | 'u' | 'b' | 'dw' | 'du' | 'db', number>;
  private readonly dc: Float64Array;
  /** The heads' input (last h, after dropout) and outputs of the last forward pass, row-major. */
  private readonly headIn: Float32Array;
  private readonly probs: Float64Array;
  private readonly returns: Float64Array;
  private count = 0;
  private mask: Float32Array | undefined;

  /** `training` reserves the memory backpropagation needs; an inference engine has none and cannot `backward`. */
  constructor(
    readonly shape: NetworkShape,
    readonly capacity: number,
    readonly training = true,
  ) {
    const { seqLen: T, nFeatures: F, hidden: H, horizon } = shape;
    const G = 4 * H;
    const B = capacity;
    const forTraining = (size: number) => (training ? size : 0);
    const sizes: Array<[keyof LstmEngine['at'], number]> = [
      ['w', F * G], ['u', H * G], ['b', G], ['dw', forTraining(F * G)], ['du', forTraining(H * G)], ['db', forTraining(G)],
      ['x', T * B * F], ['z', T * B * G], ['dz', forTraining(T * B * G)], ['h', (T + 1) * B * H], ['c', (T + 1) * B * H],
      ['tanhC', T * B * H], ['dh', forTraining(B * H)], ['ones', forTraining(T * B)],
    ];
    let next = 0;
    const at = {} as LstmEngine['at'];
    for (const [name, size] of sizes) {
      at[name] = next;
      next += Math.ceil(size / 4) * 4; // 16-byte aligned blocks
    }
    this.at = at;
    this.gemm = createGemm(next);
    this.f = this.gemm.f32;
    this.f.fill(1, at.ones, at.ones + T * B);
    const view = (offset: number, size: number) => this.f.subarray(offset, offset + size);
    const [, , , dk, db, rk, rb] = weightSizes(shape);
    this.weights = [view(at.w, F * G), view(at.u, H * G), view(at.b, G), new Float32Array(dk!), new Float32Array(db!), new Float32Array(rk!), new Float32Array(rb!)];
    this.gradients = training
      ? [view(at.dw, F * G), view(at.du, H * G), view(at.db, G), new Float32Array(dk!), new Float32Array(db!), new Float32Array(rk!), new Float32Array(rb!)]
      : [];
    this.dc = new Float64Array(B * H);
    this.headIn = new Float32Array(B * H);
    this.probs = new Float64Array(B * CLASSES);
    this.returns = new Float64Array(B * horizon);
  }

  setWeights(weights: NetworkWeights): void {
    const sizes = weightSizes(this.shape);
    weights.forEach((w, i) => {
      if (w.length !== sizes[i]) throw new Error(`LstmEngine: weight ${i} holds ${w.length} values, the network needs ${sizes[i]}`);
      this.weights[i]!.set(w);
    });
  }

  /**
   * Runs `indices` of `windows` (sample-major n × seqLen × nFeatures) through the network. `mask` (count × hidden,
   * values 0 or 1/(1 − rate)) is the training dropout on the last output; inference passes none.
   */
  forward(windows: Float32Array, indices: ArrayLike<number>, mask?: Float32Array): void {
    const { seqLen: T, nFeatures: F, hidden: H } = this.shape;
    const G = 4 * H;
    const nb = indices.length;
    if (nb > this.capacity) throw new Error(`LstmEngine: batch of ${nb} exceeds the capacity ${this.capacity}`);
    const { f, at } = this;
    this.count = nb;
    this.mask = mask;

    for (let b = 0; b < nb; b++) {
      const sample = indices[b]! * T * F;
      for (let t = 0; t < T; t++) f.set(windows.subarray(sample + t * F, sample + (t + 1) * F), at.x + (t * nb + b) * F);
    }
    const bias = this.weights[2]!;
    for (let row = 0; row < T * nb; row++) f.set(bias, at.z + row * G);
    this.gemm.nn(at.x, at.w, at.z, T * nb, F, G);
    f.fill(0, at.h, at.h + nb * H);
    f.fill(0, at.c, at.c + nb * H);

    for (let t = 0; t < T; t++) {
      const z = at.z + t * nb * G;
      const hPrev = at.h + t * nb * H;
      if (t > 0) this.gemm.nn(hPrev, at.u, z, nb, H, G);
      const cPrev = at.c + t * nb * H;
      const cNext = cPrev + nb * H;
      const hNext = hPrev + nb * H;
      const tanhC = at.tanhC + t * nb * H;
      const keep = this.training; // backpropagation reads the activated gates and tanh(c) back
      for (let b = 0; b < nb; b++) {
        const zi = z + b * G;
        const zf = zi + H;
        const zg = zf + H;
        const zo = zg + H;
        const row = b * H;
        for (let j = 0; j < H; j++) {
          const i = hardSigmoid(f[zi + j]!);
          const fg = hardSigmoid(f[zf + j]!);
          const g = Math.tanh(f[zg + j]!);
          const o = hardSigmoid(f[zo + j]!);
          const k = row + j;
          const c = Math.fround(fg * f[cPrev + k]! + i * g);
          f[cNext + k] = c;
          const tc = Math.tanh(c);
          f[hNext + k] = o * tc;
          if (keep) {
            f[zi + j] = i;
            f[zf + j] = fg;
            f[zg + j] = g;
            f[zo + j] = o;
            f[tanhC + k] = tc;
          }
        }
      }
    }
    this.heads(at.h + T * nb * H);
  }

  /** Dense heads on the last output: a softmax over down/up and the linear return path. */
  private heads(last: number): void {
    const { hidden: H, horizon } = this.shape;
    const [, , , dk, db, rk, rb] = this.weights as [unknown, unknown, unknown, Float32Array, Float32Array, Float32Array, Float32Array];
    const { f, headIn, probs, returns, mask } = this;
    for (let b = 0; b < this.count; b++) {
      for (let j = 0; j < H; j++) headIn[b * H + j] = mask ? f[last + b * H + j]! * mask[b * H + j]! : f[last + b * H + j]!;
      let down = db[0]!;
      let up = db[1]!;
      for (let j = 0; j < H; j++) {
        const h = headIn[b * H + j]!;
        down += h * dk[j * CLASSES]!;
        up += h * dk[j * CLASSES + 1]!;
      }
      const top = Math.max(down, up);
      const eDown = Math.exp(down - top);
      const eUp = Math.exp(up - top);
      probs[b * CLASSES] = eDown / (eDown + eUp);
      probs[b * CLASSES + 1] = eUp / (eDown + eUp);
      for (let u = 0; u < horizon; u++) {
        let r = rb[u]!;
        for (let j = 0; j < H; j++) r += headIn[b * H + j]! * rk[j * horizon + u]!;
        returns[b * horizon + u] = r;
      }
    }
  }

  /** P(up) of window `b` of the last forward pass. */
  probUp(b: number): number {
    return this.probs[b * CLASSES + 1]!;
  }

  /** Predicted (scaled) return `u` sessions ahead of window `b` of the last forward pass. */
  predictedReturn(b: number, u: number): number {
    return this.returns[b * this.shape.horizon + u]!;
  }

  /**
   * The last forward pass's batch losses against `classes` (0/1 per window of the batch) and `scaled` (its
   * count × horizon return targets): mean clipped cross-entropy and mean squared error, as tfjs's
   * categoricalCrossentropy and meanSquaredError.
   */
  loss(classes: ArrayLike<number>, scaled: ArrayLike<number>): BatchLoss {
    const { horizon } = this.shape;
    let crossEntropy = 0;
    let squaredError = 0;
    for (let b = 0; b < this.count; b++) {
      crossEntropy -= Math.log(clip(this.probs[b * CLASSES + classes[b]!]!));
      for (let u = 0; u < horizon; u++) squaredError += (this.returns[b * horizon + u]! - scaled[b * horizon + u]!) ** 2;
    }
    return { crossEntropy: crossEntropy / this.count, squaredError: squaredError / (this.count * horizon) };
  }

  /** Gradients of the last forward pass's loss (as `loss`) with respect to every weight, into `gradients`. */
  backward(classes: ArrayLike<number>, scaled: ArrayLike<number>): void {
    if (!this.training) throw new Error('LstmEngine: an inference engine has no memory for gradients');
    const { seqLen: T, nFeatures: F, hidden: H, horizon } = this.shape;
    const G = 4 * H;
    const nb = this.count;
    const { f, at, headIn, dc, mask } = this;
    const [, , , dk, , rk] = this.weights as Float32Array[];
    const [, , , gdk, gdb, grk, grb] = this.gradients as Float32Array[];
    for (const g of this.gradients) g.fill(0);

    // Heads: softmax + cross-entropy gives (p − y)/nb on the logits, unless the clip holds p_y constant.
    const dh = at.dh;
    for (let b = 0; b < nb; b++) {
      const y = classes[b]!;
      const clipped = clip(this.probs[b * CLASSES + y]!) !== this.probs[b * CLASSES + y];
      const dLogits = [0, 1].map((k) => (clipped ? 0 : (this.probs[b * CLASSES + k]! - (k === y ? 1 : 0)) / nb));
      const dReturns = Array.from({ length: horizon }, (_, u) => (2 * (this.returns[b * horizon + u]! - scaled[b * horizon + u]!)) / (nb * horizon));
      for (let k = 0; k < CLASSES; k++) gdb![k] += dLogits[k]!;
      for (let u = 0; u < horizon; u++) grb![u] += dReturns[u]!;
      for (let j = 0; j < H; j++) {
        const h = headIn[b * H + j]!;
        let d = 0;
        for (let k = 0; k < CLASSES; k++) {
          gdk![j * CLASSES + k] += h * dLogits[k]!;
          d += dLogits[k]! * dk![j * CLASSES + k]!;
        }
        for (let u = 0; u < horizon; u++) {
          grk![j * horizon + u] += h * dReturns[u]!;
          d += dReturns[u]! * rk![j * horizon + u]!;
        }
        f[dh + b * H + j] = mask ? d * mask[b * H + j]! : d;
      }
    }

    // Back through time: the gate gradients of each step go to dz; dh of the step before is dz · Uᵀ.
    dc.fill(0, 0, nb * H);
    for (let t = T - 1; t >= 0; t--) {
      const z = at.z + t * nb * G;
      const dz = at.dz + t * nb * G;
      const cPrev = at.c + t * nb * H;
      const tanhC = at.tanhC + t * nb * H;
      for (let b = 0; b < nb; b++) {
        const zb = z + b * G;
        const dzb = dz + b * G;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          const i = f[zb + j]!;
          const fg = f[zb + H + j]!;
          const g = f[zb + 2 * H + j]!;
          const o = f[zb + 3 * H + j]!;
          const tc = f[tanhC + k]!;
          const dhv = f[dh + k]!;
          const dcv = dc[k]! + dhv * o * (1 - tc * tc);
          f[dzb + j] = dcv * g * hardSigmoidSlope(i);
          f[dzb + H + j] = dcv * f[cPrev + k]! * hardSigmoidSlope(fg);
          f[dzb + 2 * H + j] = dcv * i * (1 - g * g);
          f[dzb + 3 * H + j] = dhv * tc * hardSigmoidSlope(o);
          dc[k] = dcv * fg;
        }
      }
      if (t > 0) {
        f.fill(0, dh, dh + nb * H);
        this.gemm.nt(dz, at.u, dh, nb, G, H);
      }
    }
    this.gemm.tn(at.x, at.dz, at.dw, T * nb, F, G);
    this.gemm.tn(at.h, at.dz, at.du, T * nb, H, G);
    this.gemm.tn(at.ones, at.dz, at.db, T * nb, 1, G);
  }
}

function clip(p: number): number {
  return Math.min(1 - EPSILON, Math.max(EPSILON, p));
}

/** tfjs's Adam: bias-corrected moments, ε added to the corrected second moment's square root. */
export function adamStep(weights: NetworkWeights, gradients: NetworkWeights, state: AdamState, settings: AdamSettings): void {
  const { learningRate, beta1, beta2, epsilon } = settings;
  const t = state.iterations + 1;
  const correction1 = 1 - Math.fround(beta1 ** t);
  const correction2 = 1 - Math.fround(beta2 ** t);
  weights.forEach((w, p) => {
    const g = gradients[p]!;
    const m = state.m[p]!;
    const v = state.v[p]!;
    for (let i = 0; i < w.length; i++) {
      m[i] = beta1 * m[i]! + (1 - beta1) * g[i]!;
      v[i] = beta2 * v[i]! + (1 - beta2) * g[i]! * g[i]!;
      w[i] = w[i]! - (learningRate * (m[i]! / correction1)) / (Math.sqrt(v[i]! / correction2) + epsilon);
    }
  });
  state.iterations = t;
}
