-- UIDVALIDITY values from a sequence instead of the `meta` row 'last_uid_validity'. The row was
-- locked by every folder creation until its commit, so mailbox creations committed one at a
-- time (~450/s: 37 minutes for a million citizen mailboxes). `nextval` takes no row lock and
-- never returns a value twice, even for transactions that roll back (gaps are harmless).
-- It starts past every value handed out so far and past the current time, as the row did
-- (a database restored from an older copy, then migrated, does not hand out old values again).
CREATE SEQUENCE mssd_uid_validity AS BIGINT MINVALUE 1 MAXVALUE 4294967295 NO CYCLE;
SELECT setval('mssd_uid_validity', GREATEST(
    COALESCE((SELECT value FROM meta WHERE key = 'last_uid_validity'), 1),
    EXTRACT(EPOCH FROM now())::BIGINT
));
