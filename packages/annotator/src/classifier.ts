// Multinomial logistic regression over sparse features: prediction, and deterministic full-batch training (Adam,
// a fixed number of steps, no sampling), so the same training data always gives the same weights.
import type { FeatureCounts } from './features.ts';

export interface SparseVector { idx: number[]; val: number[] }

export interface LinearHead {
  labels: string[];
  bias: number[];
  /** Feature-major: weights[feature * labels.length + label]. */
  weights: Float64Array;
}

/**
 * The message's features in the vocabulary's indexes, L2-normalised (unknown features are dropped); `extra` names
 * features set to 1 on top (the severity head's intent).
 */
export function vectorize(features: FeatureCounts, vocabulary: ReadonlyMap<string, number>, extra: string[] = []): SparseVector {
  const idx: number[] = [];
  const val: number[] = [];
  let squares = 0;
  const push = (name: string, value: number) => {
    const i = vocabulary.get(name);
    if (i === undefined || value === 0) return;
    idx.push(i);
    val.push(value);
    squares += value * value;
  };
  for (const [name, value] of features) push(name, value);
  for (const name of extra) if (!features.has(name)) push(name, 1);
  const norm = Math.sqrt(squares) || 1;
  for (let n = 0; n < val.length; n++) val[n] = val[n]! / norm;
  return { idx, val };
}

export function probabilities(head: LinearHead, x: SparseVector): number[] {
  const k = head.labels.length;
  const z = [...head.bias];
  for (let n = 0; n < x.idx.length; n++) {
    const base = x.idx[n]! * k;
    const v = x.val[n]!;
    for (let c = 0; c < k; c++) z[c]! += head.weights[base + c]! * v;
  }
  return softmax(z);
}

function softmax(z: number[]): number[] {
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export interface TrainOptions {
  l2: number;
  steps: number;
  learningRate: number;
  /** Weigh each class inversely to its frequency (for macro-averaged scores); 'sqrt': to its square root. */
  balanced: boolean | 'sqrt';
}

export function trainHead(labels: string[], xs: SparseVector[], ys: number[], dims: number, opts: TrainOptions): LinearHead {
  const k = labels.length;
  const counts = labels.map((_, c) => ys.filter((y) => y === c).length);
  const sampleWeight = ys.map((y) => {
    const w = xs.length / (k * Math.max(1, counts[y]!));
    return opts.balanced === 'sqrt' ? Math.sqrt(w) : opts.balanced ? w : 1;
  });
  const totalWeight = sampleWeight.reduce((a, b) => a + b, 0);
  const w = new Float64Array(dims * k);
  const b = new Array<number>(k).fill(0);
  // Adam state.
  const mw = new Float64Array(dims * k);
  const vw = new Float64Array(dims * k);
  const mb = new Array<number>(k).fill(0);
  const vb = new Array<number>(k).fill(0);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  const head: LinearHead = { labels, bias: b, weights: w };
  const gw = new Float64Array(dims * k);
  const gb = new Array<number>(k).fill(0);
  for (let step = 1; step <= opts.steps; step++) {
    gw.fill(0);
    gb.fill(0);
    for (let s = 0; s < xs.length; s++) {
      const x = xs[s]!;
      const p = probabilities(head, x);
      const sw = sampleWeight[s]! / totalWeight;
      for (let c = 0; c < k; c++) {
        const err = (p[c]! - (ys[s] === c ? 1 : 0)) * sw;
        gb[c]! += err;
        for (let n = 0; n < x.idx.length; n++) gw[x.idx[n]! * k + c]! += err * x.val[n]!;
      }
    }
    const lr = opts.learningRate;
    const c1 = 1 - beta1 ** step;
    const c2 = 1 - beta2 ** step;
    for (let i = 0; i < w.length; i++) {
      const g = gw[i]! + opts.l2 * w[i]!;
      mw[i] = beta1 * mw[i]! + (1 - beta1) * g;
      vw[i] = beta2 * vw[i]! + (1 - beta2) * g * g;
      w[i] = w[i]! - (lr * (mw[i]! / c1)) / (Math.sqrt(vw[i]! / c2) + eps);
    }
    for (let c = 0; c < k; c++) {
      mb[c] = beta1 * mb[c]! + (1 - beta1) * gb[c]!;
      vb[c] = beta2 * vb[c]! + (1 - beta2) * gb[c]! * gb[c]!;
      b[c] = b[c]! - (lr * (mb[c]! / c1)) / (Math.sqrt(vb[c]! / c2) + eps);
    }
  }
  return head;
}
