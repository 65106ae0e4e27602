-- Application tables as the addreams backend defines them (docs/app-api.md §20):
-- INTEGER unix-second timestamps, enumerations checked by the application.
CREATE TABLE IF NOT EXISTS "user_profile" (
  "user_id" text PRIMARY KEY NOT NULL,
  "account_type" text DEFAULT 'free' NOT NULL,
  "credits_product_shoots" integer DEFAULT 1 NOT NULL,
  "credits_ad_graphics" integer DEFAULT 1 NOT NULL,
  "created_at" integer DEFAULT (unixepoch()) NOT NULL,
  "updated_at" integer DEFAULT (unixepoch()) NOT NULL
);
CREATE TABLE IF NOT EXISTS "credit_ledger" (
  "id" text PRIMARY KEY NOT NULL,
  "user_id" text NOT NULL,
  "workflow" text NOT NULL,
  "delta" integer NOT NULL,
  "reason" text NOT NULL,
  "generation_id" text,
  "created_at" integer DEFAULT (unixepoch()) NOT NULL,
  FOREIGN KEY ("user_id") REFERENCES {{user}}("id") ON UPDATE no action ON DELETE no action
);
CREATE INDEX IF NOT EXISTS "credit_ledger_user_created_idx" ON "credit_ledger" ("user_id", "created_at");
CREATE INDEX IF NOT EXISTS "credit_ledger_workflow_created_idx" ON "credit_ledger" ("workflow", "created_at");
CREATE TABLE IF NOT EXISTS "generation" (
  "id" text PRIMARY KEY NOT NULL,
  "user_id" text NOT NULL,
  "workflow" text NOT NULL,
  "status" text NOT NULL,
  "input_json" text NOT NULL,
  "output_json" text,
  "provider_request_id" text,
  "provider_model" text,
  "r2_key" text,
  "error_code" text,
  "error_message" text,
  "created_at" integer DEFAULT (unixepoch()) NOT NULL,
  "updated_at" integer DEFAULT (unixepoch()) NOT NULL,
  FOREIGN KEY ("user_id") REFERENCES {{user}}("id") ON UPDATE no action ON DELETE no action
);
CREATE INDEX IF NOT EXISTS "generation_user_created_idx" ON "generation" ("user_id", "created_at");
CREATE INDEX IF NOT EXISTS "generation_user_status_created_idx" ON "generation" ("user_id", "status", "created_at");
