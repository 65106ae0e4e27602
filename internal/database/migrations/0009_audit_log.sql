-- The security trail (internal/audit): one row per sign-up, sign-in,
-- sign-out, revocation, password or email change, link, deletion,
-- rate-limit refusal and operator action. Additive only: a new table and
-- its indexes, so an existing better-auth database migrates unchanged.
-- "user_id" has no foreign key: a deleted user's trail stays until the
-- sweep prunes it after AUDIT_RETENTION_DAYS.
CREATE TABLE IF NOT EXISTS "audit_log" (
  "id" text PRIMARY KEY NOT NULL,
  "created_at" integer NOT NULL,
  "event" text NOT NULL,
  "user_id" text,
  "ip" text NOT NULL DEFAULT '',
  "user_agent" text NOT NULL DEFAULT '',
  "outcome" text NOT NULL CHECK ("outcome" IN ('success', 'failure', 'refused')),
  "detail" text NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS "audit_log_user_id_created_at_idx" ON "audit_log" ("user_id", "created_at");
CREATE INDEX IF NOT EXISTS "audit_log_created_at_idx" ON "audit_log" ("created_at");
