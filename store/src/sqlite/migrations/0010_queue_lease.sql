-- The lease of a claimed queue entry (`Store::claim_due`): while `lease_until` is in the future a
-- runner is attempting the entry, and `next_attempt` equals it so no other runner sees the entry
-- due. Kept apart from `next_attempt` so an operator's `mssd queue retry` can tell a lease
-- (not cut short: it would send the message twice at once) from a planned retry (brought
-- forward). NULL: not claimed, or the attempt was settled.
ALTER TABLE queue ADD COLUMN lease_until INTEGER;
