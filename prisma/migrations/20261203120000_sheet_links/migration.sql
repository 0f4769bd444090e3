-- The Google Sheets mirror, both ways (docs/sheets.md).
-- sheet_links: per person, what the mirror last wrote to their sheet (tab ids, block hashes,
-- the editable values as written, cells held back as invalid), when it last wrote, read and
-- asked Drive for the sheet's modifiedTime, and whether edits in the sheet flow back (opt-in).
CREATE TABLE "sheet_links" (
    "user_id" INTEGER NOT NULL,
    "sheet_id" TEXT NOT NULL,
    "edits_enabled" BOOLEAN NOT NULL DEFAULT false,
    "state" JSONB,
    "written_at" TIMESTAMPTZ(3),
    "drive_modified_at" TIMESTAMPTZ(3),
    "checked_at" TIMESTAMPTZ(3),
    "read_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sheet_links_pkey" PRIMARY KEY ("user_id")
);

CREATE INDEX "sheet_links_edits_enabled_checked_at_idx" ON "sheet_links"("edits_enabled", "checked_at");

ALTER TABLE "sheet_links" ADD CONSTRAINT "sheet_links_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- sheets_quota: token buckets shared by every instance (one row per Google quota: Sheets
-- reads, Sheets writes, Drive reads). A call takes a token in one UPDATE; a 429 empties the
-- bucket until blocked_until. window_* count the calls of the current and previous minute.
CREATE TABLE "sheets_quota" (
    "name" TEXT NOT NULL,
    "tokens" DOUBLE PRECISION NOT NULL,
    "refilled_at" TIMESTAMPTZ(3) NOT NULL,
    "blocked_until" TIMESTAMPTZ(3),
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "window_used" INTEGER NOT NULL DEFAULT 0,
    "previous_used" INTEGER NOT NULL DEFAULT 0,
    "throttled" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "sheets_quota_pkey" PRIMARY KEY ("name")
);
