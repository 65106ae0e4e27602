-- Social sign-in looks accounts up by (provider_id, account_id) and OAuth
-- states and one-time tokens by identifier. Not UNIQUE: a database written by
-- better-auth (which does not enforce it) must still migrate.
CREATE INDEX IF NOT EXISTS "account_provider_account_idx" ON "account" ("provider_id", "account_id");
