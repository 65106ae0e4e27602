-- Generations the old backend left pending were paid for and never refunded:
-- it debited the credit and wrote the ledger row before inserting the
-- generation, and its failure handler, which refunded every failure it saw,
-- leaves a row pending only when the request died before it ran. It never
-- set generation_id, though, and the refund trigger of 0005 refunds only a
-- generation with a debit tied to it, so sweeping or deleting such a row
-- would fail it with the credit kept.
-- This ties an untied old debit of the same user and workflow to each of
-- them. Sweeping, finishing or deleting one then refunds it through the
-- trigger, exactly once (the unique index on generation_id and reason). No
-- delta changes, so balances and ledger sums stay as they are.
-- A user's untied debits of one workflow are all -1, so which one is tied
-- only labels it: the k-th newest pending generation takes the k-th newest
-- debit, which for the usual single stuck request is its own. A pending
-- generation with no untied debit left shows no payment and gets no refund.
-- Video stubs are left out: such a row stays pending only when marking it
-- succeeded failed, and the old backend refunded that itself.
UPDATE "credit_ledger" SET "generation_id" = m."generation_id"
FROM (
  SELECT p."id" AS "generation_id", d."id" AS "debit_id"
  FROM (
    SELECT g."id", g."user_id", g."workflow",
      row_number() OVER (PARTITION BY g."user_id", g."workflow" ORDER BY g."created_at" DESC, g."rowid" DESC) AS "n"
    FROM "generation" g
    WHERE g."status" = 'pending' AND g."workflow" IN ('image-from-text', 'image-from-reference')
      AND NOT EXISTS (SELECT 1 FROM "credit_ledger" l WHERE l."generation_id" = g."id" AND l."reason" = 'generation_debit')
  ) p
  JOIN (
    SELECT l."id", l."user_id", l."workflow",
      row_number() OVER (PARTITION BY l."user_id", l."workflow" ORDER BY l."created_at" DESC, l."rowid" DESC) AS "n"
    FROM "credit_ledger" l
    WHERE l."reason" = 'generation_debit' AND l."generation_id" IS NULL
  ) d ON d."user_id" = p."user_id" AND d."workflow" = p."workflow" AND d."n" = p."n"
) AS m
WHERE "credit_ledger"."id" = m."debit_id";
