-- Schema version 1: mailboxes, folders, messages and blobs, outbound queue, audit trail.

-- Small counters that must survive row deletions (e.g. the last UIDVALIDITY handed out).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE mailboxes (
    id             INTEGER PRIMARY KEY,
    address        TEXT NOT NULL UNIQUE,      -- Address::canonical(), the lookup key
    address_text   TEXT NOT NULL,             -- the address as created, case kept
    kind           TEXT NOT NULL,
    display_name   TEXT,
    owner_id_nat   TEXT,
    password_hash  TEXT,
    certificate_dn TEXT UNIQUE,               -- one certificate authenticates one mailbox
    quota_bytes    INTEGER CHECK (quota_bytes IS NULL OR quota_bytes >= 0),
    status         TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at     INTEGER NOT NULL
);
CREATE INDEX mailboxes_owner ON mailboxes(owner_id_nat) WHERE owner_id_nat IS NOT NULL;

CREATE TABLE folders (
    id             INTEGER PRIMARY KEY,
    mailbox_id     INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    special_use    TEXT,
    uid_validity   INTEGER NOT NULL CHECK (uid_validity BETWEEN 1 AND 4294967295),
    uid_next       INTEGER NOT NULL DEFAULT 1 CHECK (uid_next BETWEEN 1 AND 4294967295),
    highest_modseq INTEGER NOT NULL DEFAULT 1 CHECK (highest_modseq >= 1),
    UNIQUE (mailbox_id, name)
);

-- Message bytes, stored once and shared by every folder entry and queue entry using them.
CREATE TABLE blobs (
    id     INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size   INTEGER NOT NULL,
    bytes  BLOB NOT NULL
);

CREATE TABLE messages (
    folder_id     INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    uid           INTEGER NOT NULL,
    modseq        INTEGER NOT NULL,
    blob_id       INTEGER NOT NULL REFERENCES blobs(id),
    flags         TEXT NOT NULL DEFAULT '[]', -- JSON array of normalised flags
    seen          INTEGER NOT NULL DEFAULT 0, -- 1 when flags hold \Seen, for unseen counts
    internal_date INTEGER NOT NULL,
    PRIMARY KEY (folder_id, uid)
) WITHOUT ROWID;
CREATE INDEX messages_blob ON messages(blob_id);

CREATE TABLE queue (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sender       TEXT,                        -- NULL is the null reverse-path <>
    blob_id      INTEGER NOT NULL REFERENCES blobs(id),
    envelope     TEXT NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    next_attempt INTEGER,                     -- NULL: no further attempt planned
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE INDEX queue_due ON queue(next_attempt) WHERE next_attempt IS NOT NULL;
CREATE INDEX queue_blob ON queue(blob_id);

CREATE TABLE queue_recipients (
    queue_id INTEGER NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    address  TEXT NOT NULL,                   -- wire form, local part case kept
    status   TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    detail   TEXT,
    PRIMARY KEY (queue_id, position)
) WITHOUT ROWID;

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
    at      INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    actor   TEXT NOT NULL,
    subject TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE refused');
END;
