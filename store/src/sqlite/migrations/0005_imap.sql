-- Schema version 5: what the IMAP server needs beyond plain folders and messages.

-- UIDs removed from a folder (expunge, move out), with the modseq of that change, so CONDSTORE /
-- QRESYNC clients and resyncing sessions learn about removals after a given modseq.
CREATE TABLE expunged (
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    uid       INTEGER NOT NULL,
    modseq    INTEGER NOT NULL,
    PRIMARY KEY (folder_id, uid)
) WITHOUT ROWID;
CREATE INDEX expunged_modseq ON expunged(folder_id, modseq);

-- "What changed since modseq N" without scanning the folder.
CREATE INDEX messages_modseq ON messages(folder_id, modseq);

-- IMAP subscriptions (LSUB / LIST (SUBSCRIBED)); a name may outlive its folder (RFC 9051 6.3.7).
CREATE TABLE subscriptions (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    PRIMARY KEY (mailbox_id, name)
) WITHOUT ROWID;
INSERT INTO subscriptions (mailbox_id, name) SELECT mailbox_id, name FROM folders;

-- Usage as IMAP QUOTA STORAGE sees it: a blob in two folders counts twice. Kept exact by every
-- write so quota checks read one row instead of summing the mailbox.
ALTER TABLE mailboxes ADD COLUMN used_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN used_messages INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET
    used_bytes = (SELECT coalesce(sum(b.size), 0)
                  FROM messages m JOIN folders f ON f.id = m.folder_id JOIN blobs b ON b.id = m.blob_id
                  WHERE f.mailbox_id = mailboxes.id),
    used_messages = (SELECT count(*)
                     FROM messages m JOIN folders f ON f.id = m.folder_id
                     WHERE f.mailbox_id = mailboxes.id);
