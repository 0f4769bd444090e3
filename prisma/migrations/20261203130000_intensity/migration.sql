-- How hard the coming days should be (/intensity): the person's setting and until which day it
-- holds (null = until changed); each plan records the intensity it followed
-- and until when it was set. Values are checked
-- by the app (src/app/intensity.ts): "easy", "normal" or "push".
ALTER TABLE "users" ADD COLUMN "intensity" TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE "users" ADD COLUMN "intensity_until" DATE;

ALTER TABLE "plans" ADD COLUMN "intensity" TEXT;
ALTER TABLE "plans" ADD COLUMN "intensity_until" DATE;
