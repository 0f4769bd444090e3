/**
 * Generalised Advantage Estimation (Schulman et al. 2016) over rollout storage laid out as
 * [step][env][channel]; a channel is one value head (one per actor group, or a single one).
 *
 * Episode ends are of two kinds. `terminated`: the state is truly final, its future is worth 0.
 * `truncated`: the episode was only cut off (a coaching year ends, CartPole's 500-step limit),
 * so the future is bootstrapped with the critic's value of the final observation,
 * `truncationValues`. In both cases the advantage recursion stops at the boundary, because the
 * next stored step belongs to a fresh episode.
 */
export interface GaeInput {
  steps: number;
  envs: number;
  channels: number;
  gamma: number;
  lambda: number;
  rewards: Float32Array; // [T, N, K]
  values: Float32Array; // [T, N, K]   V(s_t)
  terminated: Uint8Array; // [T, N]     transition t ended in a terminal state
  truncated: Uint8Array; // [T, N]      transition t was cut off
  truncationValues: Float32Array; // [T, N, K] V(final observation) where truncated
  nextValues: Float32Array; // [N, K]   V(s_T) after the last stored step
}

/** Fills `advantages` and `returns` ([T, N, K]); returns = advantages + values. */
export function computeGae(input: GaeInput, advantages: Float32Array, returns: Float32Array): void {
  const { steps, envs, channels: k, gamma, lambda } = input;
  for (let n = 0; n < envs; n++) {
    for (let c = 0; c < k; c++) {
      let running = 0;
      for (let t = steps - 1; t >= 0; t--) {
        const i = (t * envs + n) * k + c;
        const end = t * envs + n;
        let nextValue: number;
        if (input.terminated[end]) nextValue = 0;
        else if (input.truncated[end]) nextValue = input.truncationValues[i];
        else if (t === steps - 1) nextValue = input.nextValues[n * k + c];
        else nextValue = input.values[i + envs * k];
        const delta = input.rewards[i] + gamma * nextValue - input.values[i];
        const continues = input.terminated[end] || input.truncated[end] ? 0 : 1;
        running = delta + gamma * lambda * continues * running;
        advantages[i] = running;
        returns[i] = running + input.values[i];
      }
    }
  }
}

/**
 * How much of the variance of the returns the critic's values explain, over the whole rollout
 * (all steps, environments and value channels): 1 − Var(returns − values) / Var(returns), as
 * CleanRL logs it. 1 is a perfect critic, 0 is no better than a constant, negative is worse;
 * NaN when the returns do not vary.
 */
export function explainedVariance(values: ArrayLike<number>, returns: ArrayLike<number>): number {
  const n = returns.length;
  let meanReturn = 0;
  let meanError = 0;
  for (let i = 0; i < n; i++) {
    meanReturn += returns[i];
    meanError += returns[i] - values[i];
  }
  meanReturn /= n;
  meanError /= n;
  let varReturn = 0;
  let varError = 0;
  for (let i = 0; i < n; i++) {
    varReturn += (returns[i] - meanReturn) ** 2;
    varError += (returns[i] - values[i] - meanError) ** 2;
  }
  return varReturn === 0 ? Number.NaN : 1 - varError / varReturn;
}
