-- Onboarding is derived from what the person did, however they got there (issue 13): when they
-- chose their time zone and their plan time. Someone with a chosen time zone and an active
-- habit is onboarded.
ALTER TABLE "users" ADD COLUMN "timezone_chosen_at" TIMESTAMPTZ(3),
ADD COLUMN "plan_time_chosen_at" TIMESTAMPTZ(3);

-- Before these columns, any change to the row after registration meant the time zone had been
-- answered; onboarded people chose both.
UPDATE "users"
SET "timezone_chosen_at" = COALESCE("onboarded_at", "updated_at"),
    "plan_time_chosen_at" = "onboarded_at"
WHERE "onboarded_at" IS NOT NULL OR "updated_at" > "created_at";

-- People who answered the time zone and added habits but never tapped the last onboarding
-- button got no morning plan: they are onboarded now.
UPDATE "users" u
SET "onboarded_at" = CURRENT_TIMESTAMP
WHERE u."onboarded_at" IS NULL
  AND u."timezone_chosen_at" IS NOT NULL
  AND EXISTS (SELECT 1 FROM "habits" h WHERE h."user_id" = u."id" AND h."archived_at" IS NULL);

-- The question the bot asked last and waits for a typed answer to ("How many days a week for
-- meditate?" → "daily"), so that any question accepts its natural answers without a reply
-- (docs/bot.md, "Questions and answers"). Cleared when answered or when something else follows.
ALTER TABLE "users" ADD COLUMN "open_question" JSONB,
ADD COLUMN "open_question_at" TIMESTAMPTZ(3);
