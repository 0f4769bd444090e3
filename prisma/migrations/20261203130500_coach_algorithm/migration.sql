-- Which learning algorithm the person's nightly retrain uses: "ppo" (the default until UDRL is
-- measured better, docs/rl-results.md) or "udrl" (upside-down RL, src/rl/udrl.ts). Checked by
-- the app (src/app/coach-algorithm.ts).
ALTER TABLE "users" ADD COLUMN "coach_algorithm" TEXT NOT NULL DEFAULT 'ppo';
