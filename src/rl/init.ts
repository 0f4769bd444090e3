/**
 * Orthogonal weight initialisation (Saxe et al. 2013), the PPO default: hidden layers get gain
 * √2, the policy head 0.01 (near-uniform first policy, so early actions explore evenly) and the
 * value head 1. Generated in JavaScript from the seeded generator so the starting weights are
 * identical on every TensorFlow.js backend.
 */
import type { Rng } from "../coach/rng.js";
import { normalSample } from "./random.js";

/** Returns a row-major `rows × cols` matrix with orthonormal rows or columns, times `gain`. */
export function orthogonalMatrix(rows: number, cols: number, gain: number, rng: Rng): Float32Array {
  // Orthonormalise the columns of a tall Gaussian matrix (modified Gram–Schmidt), then
  // transpose if the requested shape is wide.
  const tall = Math.max(rows, cols);
  const wide = Math.min(rows, cols);
  const q = new Float64Array(tall * wide); // column-major: column c at q[c*tall ..]
  for (let i = 0; i < q.length; i++) q[i] = normalSample(rng);
  for (let c = 0; c < wide; c++) {
    const col = c * tall;
    for (let p = 0; p < c; p++) {
      const prev = p * tall;
      let dot = 0;
      for (let i = 0; i < tall; i++) dot += q[col + i] * q[prev + i];
      for (let i = 0; i < tall; i++) q[col + i] -= dot * q[prev + i];
    }
    let norm = 0;
    for (let i = 0; i < tall; i++) norm += q[col + i] * q[col + i];
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < tall; i++) q[col + i] /= norm;
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // rows >= cols: element (r, c) is q's column c, row r; otherwise transpose.
      out[r * cols + c] = gain * (rows >= cols ? q[c * tall + r] : q[r * tall + c]);
    }
  }
  return out;
}
