-- better-auth core tables in layout B ("seed 003", docs/auth-wire.md §10.2): table "users"
-- (plural) with its credits and tier columns, snake_case, dates as TEXT.
-- IF NOT EXISTS keeps an existing better-auth database exactly as it is.
CREATE TABLE IF NOT EXISTS "users" (
  "id" text PRIMARY KEY NOT NULL,
  "email" text NOT NULL UNIQUE,
  "name" text NOT NULL,
  "email_verified" integer DEFAULT 0,
  "image" text,
  "credits" integer DEFAULT 500 NOT NULL,
  "tier" text DEFAULT 'free' NOT NULL,
  "created_at" text DEFAULT (datetime('now')) NOT NULL,
  "updated_at" text DEFAULT (datetime('now')) NOT NULL
);
CREATE TABLE IF NOT EXISTS "session" (
  "id" text PRIMARY KEY NOT NULL,
  "expires_at" text NOT NULL,
  "token" text NOT NULL UNIQUE,
  "ip_address" text,
  "user_agent" text,
  "user_id" text NOT NULL REFERENCES "users"("id"),
  "created_at" text DEFAULT (datetime('now')) NOT NULL,
  "updated_at" text DEFAULT (datetime('now')) NOT NULL
);
CREATE TABLE IF NOT EXISTS "account" (
  "id" text PRIMARY KEY NOT NULL,
  "account_id" text NOT NULL,
  "provider_id" text NOT NULL,
  "user_id" text NOT NULL REFERENCES "users"("id"),
  "access_token" text,
  "refresh_token" text,
  "id_token" text,
  "access_token_expires_at" text,
  "refresh_token_expires_at" text,
  "scope" text,
  "password" text,
  "created_at" text DEFAULT (datetime('now')) NOT NULL,
  "updated_at" text DEFAULT (datetime('now')) NOT NULL
);
CREATE TABLE IF NOT EXISTS "verification" (
  "id" text PRIMARY KEY NOT NULL,
  "identifier" text NOT NULL,
  "value" text NOT NULL,
  "expires_at" text NOT NULL,
  "created_at" text DEFAULT (datetime('now')),
  "updated_at" text DEFAULT (datetime('now'))
);
