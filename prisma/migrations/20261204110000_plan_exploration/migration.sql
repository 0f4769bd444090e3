-- A plan that explored (left out habits its greedy plan had) records how, so every plan can be
-- explained from the log (src/coach/exploration.ts).
ALTER TABLE "plans" ADD COLUMN "exploration" JSONB;
