-- Credits are enforced by the database itself, so no code path can spend a
-- credit without a generation record or refund one twice:
--   * inserting a pending generation debits its workflow's balance in the
--     same statement (BEFORE INSERT trigger), or aborts with OUT_OF_CREDITS;
--   * the one transition pending → failed refunds it (AFTER UPDATE trigger);
--     a generation leaves "pending" once, so the refund happens once.
-- Every change is a ledger row tied to its generation, and the unique index
-- below makes a second debit or refund for one generation impossible.
-- image-from-text spends credits_product_shoots; every other workflow
-- spends credits_ad_graphics (docs/app-api.md §13.1).
ALTER TABLE "generation" ADD COLUMN "idempotency_key" text;
ALTER TABLE "generation" ADD COLUMN "response_status" integer;
ALTER TABLE "generation" ADD COLUMN "response_json" text;
CREATE UNIQUE INDEX IF NOT EXISTS "generation_user_idempotency_idx" ON "generation" ("user_id", "idempotency_key") WHERE "idempotency_key" IS NOT NULL;
CREATE INDEX IF NOT EXISTS "generation_status_updated_idx" ON "generation" ("status", "updated_at");
CREATE UNIQUE INDEX IF NOT EXISTS "credit_ledger_generation_reason_idx" ON "credit_ledger" ("generation_id", "reason") WHERE "generation_id" IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS "generation_debit" BEFORE INSERT ON "generation"
FOR EACH ROW WHEN NEW."status" = 'pending'
BEGIN
  INSERT OR IGNORE INTO "user_profile" ("user_id") VALUES (NEW."user_id");
  SELECT RAISE(ABORT, 'OUT_OF_CREDITS') WHERE (
    SELECT CASE WHEN NEW."workflow" = 'image-from-text' THEN "credits_product_shoots" ELSE "credits_ad_graphics" END
    FROM "user_profile" WHERE "user_id" = NEW."user_id") < 1;
  UPDATE "user_profile" SET
    "credits_product_shoots" = "credits_product_shoots" - (NEW."workflow" = 'image-from-text'),
    "credits_ad_graphics" = "credits_ad_graphics" - (NEW."workflow" <> 'image-from-text'),
    "updated_at" = unixepoch()
  WHERE "user_id" = NEW."user_id";
  INSERT INTO "credit_ledger" ("id", "user_id", "workflow", "delta", "reason", "generation_id", "created_at")
  VALUES (NEW."id" || ':debit', NEW."user_id", NEW."workflow", -1, 'generation_debit', NEW."id", unixepoch());
END;
CREATE TRIGGER IF NOT EXISTS "generation_refund" AFTER UPDATE OF "status" ON "generation"
FOR EACH ROW WHEN OLD."status" = 'pending' AND NEW."status" = 'failed'
  AND EXISTS (SELECT 1 FROM "credit_ledger" WHERE "generation_id" = NEW."id" AND "reason" = 'generation_debit')
BEGIN
  UPDATE "user_profile" SET
    "credits_product_shoots" = "credits_product_shoots" + (NEW."workflow" = 'image-from-text'),
    "credits_ad_graphics" = "credits_ad_graphics" + (NEW."workflow" <> 'image-from-text'),
    "updated_at" = unixepoch()
  WHERE "user_id" = NEW."user_id";
  INSERT INTO "credit_ledger" ("id", "user_id", "workflow", "delta", "reason", "generation_id", "created_at")
  VALUES (NEW."id" || ':refund', NEW."user_id", NEW."workflow", 1, 'generation_refund', NEW."id", unixepoch());
END;
