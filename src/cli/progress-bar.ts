/**
 * A one-line training progress bar for a terminal (redrawn in place on a TTY, a line every 10 %
 * otherwise, so logs stay readable).
 */
import type { TrainingProgress } from "../rl/ppo.js";
import type { UdrlProgress } from "../rl/udrl.js";

export function formatProgress(p: TrainingProgress | UdrlProgress, width = 24): string {
  const fraction = Math.min(1, p.steps / p.totalSteps);
  const filled = Math.round(fraction * width);
  const eta = fraction > 0 ? (p.elapsedSeconds / fraction) * (1 - fraction) : 0;
  const head =
    `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
    `${p.steps.toLocaleString("en")}/${p.totalSteps.toLocaleString("en")} steps · ` +
    `${Math.round(p.samplesPerSecond).toLocaleString("en")} samples/s · reward ${p.meanReward.toFixed(3)} · `;
  if (!("approxKl" in p)) {
    // UDRL: what the best episodes reached (the exploration command) and the fit's losses.
    return (
      head +
      `best episodes ${p.bestMeanReturn.toFixed(2)} ± ${p.bestStdReturn.toFixed(2)} · ` +
      `fit ${p.fit ? `${p.fit.gradientSteps} steps, loss ${p.fit.trainLoss.toFixed(3)} / held-out ${p.fit.heldOutLoss.toFixed(3)}` : "–"} · ` +
      `eta ${Math.round(eta)}s`
    );
  }
  return (
    head +
    `entropy ${p.entropy.toFixed(2)} · kl ${p.approxKl.toFixed(4)} · clip ${p.clipFraction.toFixed(2)} · ` +
    `explained var ${p.explainedVariance.toFixed(2)} · lr ${p.learningRate.toExponential(1)} · ` +
    `eta ${Math.round(eta)}s`
  );
}

export function createProgressBar(stream: NodeJS.WriteStream = process.stderr) {
  let lastDecile = -1;
  return {
    update(p: TrainingProgress | UdrlProgress): void {
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
