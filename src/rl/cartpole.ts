/**
 * CartPole-v1 with Gymnasium's dynamics, batched: the public reference task used to check that
 * the PPO implementation is correct before trusting it on habits.
 *
 * gravity 9.8, cart mass 1.0, pole mass 0.1, pole half-length 0.5, force ±10, τ = 0.02 s with
 * (explicit) Euler integration; the episode terminates when |x| > 2.4 or |θ| > 12° and is
 * truncated after 500 steps. Reward 1 per step (including the terminating one). Reset draws all
 * four state variables uniformly from [−0.05, 0.05].
 */
import type { Rng } from "../coach/rng.js";
import type { StepBuffers, VectorEnv } from "./vector-env.js";

const GRAVITY = 9.8;
const CART_MASS = 1.0;
const POLE_MASS = 0.1;
const TOTAL_MASS = CART_MASS + POLE_MASS;
const HALF_LENGTH = 0.5;
const POLE_MASS_LENGTH = POLE_MASS * HALF_LENGTH;
const FORCE = 10.0;
const TAU = 0.02;
const THETA_LIMIT = (12 * 2 * Math.PI) / 360;
const X_LIMIT = 2.4;
export const CARTPOLE_MAX_STEPS = 500;

/** One Euler step of the cart-pole; `state` = [x, ẋ, θ, θ̇] is updated in place. */
export function cartPoleStep(state: Float64Array, offset: number, action: number): boolean {
  const x = state[offset];
  const xDot = state[offset + 1];
  const theta = state[offset + 2];
  const thetaDot = state[offset + 3];
  const force = action === 1 ? FORCE : -FORCE;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const temp = (force + POLE_MASS_LENGTH * thetaDot * thetaDot * sin) / TOTAL_MASS;
  const thetaAcc =
    (GRAVITY * sin - cos * temp) /
    (HALF_LENGTH * (4.0 / 3.0 - (POLE_MASS * cos * cos) / TOTAL_MASS));
  const xAcc = temp - (POLE_MASS_LENGTH * thetaAcc * cos) / TOTAL_MASS;
  state[offset] = x + TAU * xDot;
  state[offset + 1] = xDot + TAU * xAcc;
  state[offset + 2] = theta + TAU * thetaDot;
  state[offset + 3] = thetaDot + TAU * thetaAcc;
  return (
    state[offset] < -X_LIMIT ||
    state[offset] > X_LIMIT ||
    state[offset + 2] < -THETA_LIMIT ||
    state[offset + 2] > THETA_LIMIT
  );
}

export class CartPoleVectorEnv implements VectorEnv {
  readonly numEnvs: number;
  readonly observationSize = 4;
  readonly groupCount = 1;
  readonly actionCount = 1;
  private readonly state: Float64Array;
  private readonly elapsed: Int32Array;
  private readonly rng: Rng;

  constructor(numEnvs: number, rng: Rng) {
    this.numEnvs = numEnvs;
    this.rng = rng;
    this.state = new Float64Array(numEnvs * 4);
    this.elapsed = new Int32Array(numEnvs);
  }

  private resetOne(n: number): void {
    for (let i = 0; i < 4; i++) this.state[n * 4 + i] = this.rng.next() * 0.1 - 0.05;
    this.elapsed[n] = 0;
  }

  reset(observations: Float32Array): void {
    for (let n = 0; n < this.numEnvs; n++) this.resetOne(n);
    for (let i = 0; i < this.state.length; i++) observations[i] = this.state[i];
  }

  step(actions: Int32Array, out: StepBuffers): void {
    for (let n = 0; n < this.numEnvs; n++) {
      const terminated = cartPoleStep(this.state, n * 4, actions[n]);
      this.elapsed[n] += 1;
      const truncated = !terminated && this.elapsed[n] >= CARTPOLE_MAX_STEPS;
      out.rewards[n] = 1;
      out.groupRewards[n] = 1;
      out.terminated[n] = terminated ? 1 : 0;
      out.truncated[n] = truncated ? 1 : 0;
      if (terminated || truncated) {
        for (let i = 0; i < 4; i++) out.finalObservations[n * 4 + i] = this.state[n * 4 + i];
        this.resetOne(n);
      }
      for (let i = 0; i < 4; i++) out.observations[n * 4 + i] = this.state[n * 4 + i];
    }
  }
}

/** Policy spec of CartPole: one sub-action with two levels (push left, push right). */
export const CARTPOLE_SPEC = {
  observationSize: 4,
  levelCount: [2],
  actorGroupOf: [0],
  groupCount: 1,
  habitDescriptors: [[]],
  emaIndex: [-1],
};

/**
 * Runs `episodes` CartPole episodes in parallel with the greedy (arg-max) policy and returns
 * each episode's return. `act` maps observations [E, 4] to actions [E].
 */
export function evaluateCartPole(
  act: (observations: Float32Array, rows: number, actions: Int32Array) => void,
  episodes: number,
  rng: Rng,
): number[] {
  const state = new Float64Array(episodes * 4);
  for (let i = 0; i < state.length; i++) state[i] = rng.next() * 0.1 - 0.05;
  const returns = new Array<number>(episodes).fill(0);
  const done = new Uint8Array(episodes);
  const observations = new Float32Array(episodes * 4);
  const actions = new Int32Array(episodes);
  for (let t = 0; t < CARTPOLE_MAX_STEPS; t++) {
    for (let i = 0; i < state.length; i++) observations[i] = state[i];
    act(observations, episodes, actions);
    let running = 0;
    for (let e = 0; e < episodes; e++) {
      if (done[e]) continue;
      returns[e] += 1;
      if (cartPoleStep(state, e * 4, actions[e])) done[e] = 1;
      else running += 1;
    }
    if (running === 0) break;
  }
  return returns;
}
