-- Schema version 3: rights granted on a mailbox to another mailbox — an ORG mailbox shared
-- with the professionals who work for it: read and write (IMAP, shared namespace) and send
-- (SMTP MAIL FROM as the ORG mailbox).

CREATE TABLE mailbox_grants (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    grantee_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    rights     TEXT NOT NULL CHECK (rights IN ('r', 'rw', 'rs', 'rws', 's', 'w', 'ws')),
    granted_at INTEGER NOT NULL,            -- Unix seconds
    PRIMARY KEY (mailbox_id, grantee_id),
    CHECK (mailbox_id <> grantee_id)
) WITHOUT ROWID;
CREATE INDEX mailbox_grants_grantee ON mailbox_grants(grantee_id);
