-- Credit packs bought through Stripe Checkout (internal/billing,
-- docs/billing.md). Additive only: new tables, and two nullable ledger
-- columns that older code never reads.
--
-- A purchase is granted by the one webhook delivery that moves its
-- checkout row from 'open' to 'granted' (a compare-and-set in the batch that
-- also writes the ledger), so redelivered, duplicated, concurrent and
-- out-of-order events grant it once. A refund Stripe reports is kept per
-- payment (billing_refund, the highest total seen) and applied to a granted
-- checkout up to that total, whichever of the two events came first.
-- A customer per Stripe mode: test-mode customers do not exist in live
-- mode, so the ones made while testing must not be reused after going live.
CREATE TABLE IF NOT EXISTS "billing_customer" (
  "user_id" text NOT NULL,
  "mode" text NOT NULL CHECK ("mode" IN ('test', 'live')),
  "customer_id" text NOT NULL,
  "created_at" integer NOT NULL,
  PRIMARY KEY ("user_id", "mode")
);
CREATE TABLE IF NOT EXISTS "billing_checkout" (
  "id" text PRIMARY KEY NOT NULL,
  "user_id" text NOT NULL,
  "pack_id" text NOT NULL,
  "pack_name" text NOT NULL,
  "price_id" text NOT NULL,
  "credits_product_shoots" integer NOT NULL,
  "credits_ad_graphics" integer NOT NULL,
  "makes_paid" integer NOT NULL,
  "customer_id" text NOT NULL,
  "status" text NOT NULL CHECK ("status" IN ('open', 'granted', 'expired')),
  "grant_claim" text,
  "refund_claim" text,
  "payment_intent_id" text,
  "amount_total" integer,
  "currency" text,
  "refunded_amount" integer NOT NULL DEFAULT 0,
  "revoked_product_shoots" integer NOT NULL DEFAULT 0,
  "revoked_ad_graphics" integer NOT NULL DEFAULT 0,
  "created_at" integer NOT NULL,
  "granted_at" integer
);
CREATE INDEX IF NOT EXISTS "billing_checkout_user_created_idx" ON "billing_checkout" ("user_id", "created_at");
CREATE UNIQUE INDEX IF NOT EXISTS "billing_checkout_payment_intent_idx" ON "billing_checkout" ("payment_intent_id") WHERE "payment_intent_id" IS NOT NULL;
CREATE TABLE IF NOT EXISTS "billing_refund" (
  "payment_intent_id" text PRIMARY KEY NOT NULL,
  "charge_id" text NOT NULL,
  "amount" integer NOT NULL,
  "amount_refunded" integer NOT NULL,
  "updated_at" integer NOT NULL
);
CREATE TABLE IF NOT EXISTS "billing_event" (
  "id" text PRIMARY KEY NOT NULL,
  "type" text NOT NULL,
  "object_id" text NOT NULL DEFAULT '',
  "outcome" text NOT NULL,
  "received_at" integer NOT NULL
);
CREATE INDEX IF NOT EXISTS "billing_event_received_idx" ON "billing_event" ("received_at");
-- A purchase or refund row names its Stripe object (checkout session or
-- charge) and what it asked to move when the balance bounds moved less.
ALTER TABLE "credit_ledger" ADD COLUMN "external_ref" text;
ALTER TABLE "credit_ledger" ADD COLUMN "requested" integer;
