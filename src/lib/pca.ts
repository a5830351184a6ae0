/**
 * PCA of the codebook vectors to 3 components, mapped to RGB colours per code, so that codes that are close
 * in the codebook get similar colours in the token map. Deterministic (fixed start, sign convention).
 */

export interface Pca3 {
  /** [size, 3] projections */
  projections: Float32Array;
  /** [3, dim] principal axes */
  components: Float64Array;
  /** variance along each component */
  variances: [number, number, number];
}

/** Top-3 principal components by power iteration with deflation on the dim×dim covariance. */
export function pca3(vectors: Float32Array, size: number, dim: number): Pca3 {
  if (vectors.length !== size * dim)
    throw new RangeError(`codebook has ${vectors.length} values, expected ${size}×${dim}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < size; i++) for (let d = 0; d < dim; d++) mean[d]! += vectors[i * dim + d]!;
  for (let d = 0; d < dim; d++) mean[d]! /= size;
  const cov = new Float64Array(dim * dim);
  const row = new Float64Array(dim);
  for (let i = 0; i < size; i++) {
    for (let d = 0; d < dim; d++) row[d] = vectors[i * dim + d]! - mean[d]!;
    for (let a = 0; a < dim; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < dim; b++) cov[a * dim + b]! += ra * row[b]!;
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b]! / Math.max(1, size - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  const k = Math.min(3, dim);
  const components = new Float64Array(3 * dim);
  const variances: [number, number, number] = [0, 0, 0];
  const v = new Float64Array(dim);
  const w = new Float64Array(dim);
  for (let c = 0; c < k; c++) {
    for (let d = 0; d < dim; d++) v[d] = 1 + ((d * 7 + c * 3) % 11) / 11; // fixed, non-degenerate start
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      for (let a = 0; a < dim; a++) {
        let s = 0;
        for (let b = 0; b < dim; b++) s += cov[a * dim + b]! * v[b]!;
        w[a] = s;
      }
      let n = 0;
      for (let d = 0; d < dim; d++) n += w[d]! * w[d]!;
      n = Math.sqrt(n);
      if (n < 1e-20) break;
      let delta = 0;
      for (let d = 0; d < dim; d++) {
        const nv = w[d]! / n;
        delta += Math.abs(nv - v[d]!);
        v[d] = nv;
      }
      lambda = n;
      if (delta < 1e-12) break;
    }
    // sign convention: largest-magnitude entry positive
    let big = 0;
    for (let d = 1; d < dim; d++) if (Math.abs(v[d]!) > Math.abs(v[big]!)) big = d;
    const sgn = v[big]! < 0 ? -1 : 1;
    for (let d = 0; d < dim; d++) components[c * dim + d] = sgn * v[d]!;
    variances[c] = lambda;
    // deflate
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) cov[a * dim + b]! -= lambda * v[a]! * v[b]!;
  }
  const projections = new Float32Array(size * 3);
  for (let i = 0; i < size; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (vectors[i * dim + d]! - mean[d]!) * components[c * dim + d]!;
      projections[i * 3 + c] = s;
    }
  }
  return { projections, components, variances };
}

/** RGB8 colour per code ([size, 3]) from the PCA projections, each component min-max scaled to 0..255. */
export function pcaColours(vectors: Float32Array, size: number, dim: number): Uint8ClampedArray {
  const { projections } = pca3(vectors, size, dim);
  const out = new Uint8ClampedArray(size * 3);
  for (let c = 0; c < 3; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < size; i++) {
      const p = projections[i * 3 + c]!;
      if (p < lo) lo = p;
      if (p > hi) hi = p;
    }
    const range = hi - lo;
    for (let i = 0; i < size; i++) {
      out[i * 3 + c] = range > 0 ? Math.round(((projections[i * 3 + c]! - lo) / range) * 255) : 128;
    }
  }
  return out;
}
