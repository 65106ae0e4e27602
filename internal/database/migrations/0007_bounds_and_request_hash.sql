-- Balances stay whole numbers in a sane range whatever writes them. SQLite
-- turns an integer that overflows into a REAL, after which every request of
-- that user failed; an operator grant could also take a balance below zero.
-- Rows already out of range are brought back first (the ledger of such a
-- row was broken already), then a trigger refuses any change that leaves
-- one: 0 ≤ balance ≤ 1,000,000,000, INTEGER.
UPDATE "user_profile" SET
  "credits_product_shoots" = CAST(min(max(coalesce("credits_product_shoots", 0), 0), 1000000000) AS INTEGER),
  "credits_ad_graphics" = CAST(min(max(coalesce("credits_ad_graphics", 0), 0), 1000000000) AS INTEGER)
WHERE typeof("credits_product_shoots") <> 'integer' OR typeof("credits_ad_graphics") <> 'integer'
  OR "credits_product_shoots" NOT BETWEEN 0 AND 1000000000 OR "credits_ad_graphics" NOT BETWEEN 0 AND 1000000000;
CREATE TRIGGER IF NOT EXISTS "user_profile_credits_bounds" BEFORE UPDATE OF "credits_product_shoots", "credits_ad_graphics" ON "user_profile"
FOR EACH ROW WHEN typeof(NEW."credits_product_shoots") <> 'integer' OR typeof(NEW."credits_ad_graphics") <> 'integer'
  OR NEW."credits_product_shoots" NOT BETWEEN 0 AND 1000000000 OR NEW."credits_ad_graphics" NOT BETWEEN 0 AND 1000000000
BEGIN
  SELECT RAISE(ABORT, 'CREDITS_OUT_OF_RANGE');
END;
-- An Idempotency-Key is bound to the request it first came with: the
-- SHA-256 of the workflow and the body (hex). A retry with another body is
-- refused instead of replaying the first answer. Rows from before have
-- none and replay as they did.
ALTER TABLE "generation" ADD COLUMN "request_hash" text;
