/**
 * DLDL-v2 label math, the TypeScript twin of training/dldl/labels.py and metrics.py. Both sides
 * are checked against test/vectors/labels.json, written by the Python side.
 */
export interface LabelSpace {
  min: number;
  max: number;
  step: number;
  /** Number of labels, where known (a model card's `labels.k`); else counted from min, max and step. */
  k?: number;
}

/** The label vector l = [min : step : max] (K entries) of a label space, e.g. a model card's or a panel head's `labels`. */
export function labelVector({ min, max, step, k = Math.round((max - min) / step) + 1 }: LabelSpace): Float64Array {
  return Float64Array.from({ length: k }, (_, i) => min + i * step);
}

/** Eq. 1: p_k ∝ exp(-(l_k - y)² / 2σ²), normalised (σ floored at 1e-3 as in training). */
export function labelDistribution(y: number, sigma: number, labels: ArrayLike<number>): Float64Array {
  const s = Math.max(sigma, 1e-3);
  const logits = Float64Array.from({ length: labels.length }, (_, k) => -((labels[k] - y) ** 2) / (2 * s * s));
  return softmax(logits);
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Eq. 10: the predicted value Σ p_k l_k. */
export function expectation(p: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < p.length; k++) s += p[k] * labels[k];
  return s;
}

/** Standard deviation of the distribution, sqrt(E[l²] - E[l]²) (clamped at 0). */
export function std(p: ArrayLike<number>, labels: ArrayLike<number>): number {
  let m = 0,
    m2 = 0;
  for (let k = 0; k < p.length; k++) {
    m += p[k] * labels[k];
    m2 += p[k] * labels[k] * labels[k];
  }
  return Math.sqrt(Math.max(0, m2 - m * m));
}

/**
 * q-quantile, linear inside the bin: with c the CDF, l_{k-1} + step·(q - c_{k-1})/p_k for the first
 * k with c_k ≥ q (l_0 when k = 0). Same definition as training/dldl/labels.py.
 */
export function quantile(p: ArrayLike<number>, labels: ArrayLike<number>, q: number): number {
  const step = labels[1] - labels[0];
  let prev = 0;
  let k = 0;
  for (; k < p.length; k++) {
    const c = prev + p[k];
    if (c >= q) break;
    prev = c;
  }
  if (k >= p.length) {
    // Rounding left the CDF just below q: the last bin, as searchsorted's clamp does.
    k = p.length - 1;
    prev -= p[k];
  }
  if (k === 0) return labels[0];
  const frac = Math.min(1, Math.max(0, (q - prev) / Math.max(p[k], 1e-12)));
  return labels[k] - step + step * frac;
}

/** Temperature scaling from probabilities: softmax(log(p) / T) (p floored at 1e-30). */
export function temperatureProbs(p: ArrayLike<number>, temperature: number): Float64Array {
  return softmax(Float64Array.from({ length: p.length }, (_, k) => Math.log(Math.max(p[k], 1e-30)) / temperature));
}

export const AGE_BANDS = [
  ["0-12", 0, 12],
  ["13-19", 13, 19],
  ["20-39", 20, 39],
  ["40-59", 40, 59],
  ["60+", 60, 1e9],
] as const;

export interface BandError {
  n: number;
  mae: number | null;
  /** Mean signed error (prediction − label): a band placed too old or too young shows here. */
  mean_error: number | null;
}

export interface Metrics {
  n: number;
  mae: number;
  rmse: number;
  /** Pearson correlation (NaN with fewer than two samples). */
  pc: number;
  /** ε-error: mean(1 - exp(-e² / 2σ²)); σ per image, else 2 (age) or 0.5 (attractiveness). */
  eps_error: number;
  /** Age only: share of |e| ≤ 5. */
  cs5?: number;
  /** Age only: MAE and mean signed error per age band of the true label. */
  bands?: Record<string, BandError>;
}

/** Section 4.2 metrics plus the product's (CS@5, per-band MAE); same as training/dldl/metrics.py. */
export function metrics(
  pred: ArrayLike<number>,
  y: ArrayLike<number>,
  options: { task: "age" | "attractiveness"; sigma?: ArrayLike<number> | null },
): Metrics {
  const n = y.length;
  if (pred.length !== n) throw new RangeError(`metrics: ${pred.length} predictions for ${n} labels`);
  const defaultSigma = options.task === "age" ? 2 : 0.5;
  let abs = 0,
    sq = 0,
    eps = 0,
    cs = 0,
    mp = 0,
    my = 0;
  for (let i = 0; i < n; i++) {
    const e = pred[i] - y[i];
    const s = options.sigma ? options.sigma[i] : defaultSigma;
    abs += Math.abs(e);
    sq += e * e;
    eps += 1 - Math.exp(-(e * e) / (2 * s * s));
    if (Math.abs(e) <= 5) cs++;
    mp += pred[i];
    my += y[i];
  }
  mp /= n;
  my /= n;
  let cov = 0,
    vp = 0,
    vy = 0;
  for (let i = 0; i < n; i++) {
    cov += (pred[i] - mp) * (y[i] - my);
    vp += (pred[i] - mp) ** 2;
    vy += (y[i] - my) ** 2;
  }
  const out: Metrics = {
    n,
    mae: abs / n,
    rmse: Math.sqrt(sq / n),
    pc: n > 1 ? cov / Math.sqrt(vp * vy) : NaN,
    eps_error: eps / n,
  };
  if (options.task === "age") {
    out.cs5 = cs / n;
    out.bands = {};
    for (const [name, lo, hi] of AGE_BANDS) {
      let count = 0,
        sum = 0,
        signed = 0;
      for (let i = 0; i < n; i++) {
        if (y[i] >= lo && y[i] <= hi) {
          count++;
          sum += Math.abs(pred[i] - y[i]);
          signed += pred[i] - y[i];
        }
      }
      out.bands[name] = { n: count, mae: count ? sum / count : null, mean_error: count ? signed / count : null };
    }
  }
  return out;
}
