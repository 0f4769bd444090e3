/**
 * A one-line training progress bar for a terminal (redrawn in place on a TTY, a line every 10 %
 * otherwise, so logs stay readable).
 */
import type { TrainingProgress } from "../rl/ppo.js";

export function formatProgress(p: TrainingProgress, width = 24): string {
  const fraction = Math.min(1, p.steps / p.totalSteps);
  const filled = Math.round(fraction * width);
  const eta = fraction > 0 ? (p.elapsedSeconds / fraction) * (1 - fraction) : 0;
  return (
    `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
    `${p.steps.toLocaleString("en")}/${p.totalSteps.toLocaleString("en")} steps · ` +
    `${Math.round(p.samplesPerSecond).toLocaleString("en")} samples/s · reward ${p.meanReward.toFixed(3)} · ` +
    `entropy ${p.entropy.toFixed(2)} · kl ${p.approxKl.toFixed(4)} · clip ${p.clipFraction.toFixed(2)} · ` +
    `explained var ${p.explainedVariance.toFixed(2)} · lr ${p.learningRate.toExponential(1)} · ` +
    `eta ${Math.round(eta)}s`
  );
}

export function createProgressBar(stream: NodeJS.WriteStream = process.stderr) {
  let lastDecile = -1;
  return {
    update(p: TrainingProgress): void {
      const line = formatProgress(p);
      if (stream.isTTY) {
        stream.write(`\r${line.slice(0, (stream.columns ?? 200) - 1)}\x1b[K`);
      } else {
        const decile = Math.floor((10 * p.steps) / p.totalSteps);
        if (decile !== lastDecile) {
          lastDecile = decile;
          stream.write(`${line}\n`);
        }
      }
    },
    done(): void {
      if (stream.isTTY) stream.write("\n");
    },
  };
}
