-- Rate-limit counters shared by every Lambda instance (better-auth's
-- database storage: one row per "<ip>|<path>", lastRequest in milliseconds).
CREATE TABLE IF NOT EXISTS "rate_limit" (
  "key" text PRIMARY KEY NOT NULL,
  "count" integer NOT NULL,
  "last_request" integer NOT NULL
);
CREATE INDEX IF NOT EXISTS "rate_limit_last_request_idx" ON "rate_limit" ("last_request");
