-- PostgreSQL schema version 1: everything the SQLite schema holds at its version 9, translated.
--
-- Conventions (see docs/postgres.md):
-- * ids are BIGINT identities; times are BIGINT Unix seconds (or milliseconds for the audit
--   trail), exactly what the Store API carries, so values round-trip unchanged;
-- * no table per mailbox: every per-mailbox table carries mailbox_id and has it first in its
--   primary key, so it can later be declared PARTITION BY HASH (mailbox_id) without changing
--   a key;
-- * message bytes are stored once in `blobs` and shared by folder entries and queue entries.

-- Small counters that must survive row deletions (e.g. the last UIDVALIDITY handed out).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE mailboxes (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    address        TEXT NOT NULL UNIQUE,      -- Address::canonical(), the lookup key
    address_text   TEXT NOT NULL,             -- the address as created, case kept
    kind           TEXT NOT NULL,
    display_name   TEXT,
    owner_id_nat   TEXT,
    password_hash  TEXT,
    certificate_dn TEXT UNIQUE,               -- one certificate authenticates one mailbox
    quota_bytes    BIGINT CHECK (quota_bytes IS NULL OR quota_bytes >= 0),
    status         TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at     BIGINT NOT NULL,
    -- Usage as IMAP QUOTA STORAGE sees it (a blob in two folders counts twice), kept exact by
    -- every write so a quota check reads one row. The row is also the lock every write to the
    -- mailbox's folders takes first (SELECT ... FOR UPDATE), in mailbox id order.
    used_bytes     BIGINT NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
    used_messages  BIGINT NOT NULL DEFAULT 0 CHECK (used_messages >= 0)
);
CREATE INDEX mailboxes_owner ON mailboxes (owner_id_nat) WHERE owner_id_nat IS NOT NULL;

CREATE TABLE folders (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_id     BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    special_use    TEXT,
    uid_validity   BIGINT NOT NULL CHECK (uid_validity BETWEEN 1 AND 4294967295),
    uid_next       BIGINT NOT NULL DEFAULT 1 CHECK (uid_next BETWEEN 1 AND 4294967295),
    highest_modseq BIGINT NOT NULL DEFAULT 1 CHECK (highest_modseq >= 1),
    UNIQUE (mailbox_id, name),
    UNIQUE (mailbox_id, id)                   -- the target of the per-mailbox foreign keys
);

-- Message bytes, stored once and shared by every folder entry and queue entry using them.
-- `bytes` holds the whole message today; `location` is the seam for an object store: when set,
-- the bytes (after the head kept in `bytes`) live under that key outside the database.
CREATE TABLE blobs (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256   TEXT NOT NULL,
    size     BIGINT NOT NULL CHECK (size >= 0),
    bytes    BYTEA NOT NULL,
    location TEXT UNIQUE
);

-- What an IMAP listing needs of each message, written when it is stored (opaque to the store).
CREATE TABLE blob_summaries (
    blob_id BIGINT PRIMARY KEY REFERENCES blobs (id) ON DELETE CASCADE,
    summary BYTEA NOT NULL
);

-- Object-store keys whose rows were deleted, removed from the object store once that deletion
-- is committed (unused while every blob is inline).
CREATE TABLE blob_garbage (
    location TEXT PRIMARY KEY
);

CREATE TABLE messages (
    mailbox_id    BIGINT NOT NULL,
    folder_id     BIGINT NOT NULL,
    uid           BIGINT NOT NULL CHECK (uid BETWEEN 1 AND 4294967295),
    modseq        BIGINT NOT NULL CHECK (modseq >= 1),
    blob_id       BIGINT NOT NULL REFERENCES blobs (id),
    size          BIGINT NOT NULL CHECK (size >= 0), -- the blob's, copied: listings read no blob
    sha256        TEXT NOT NULL,                     -- idem
    flags         TEXT[] NOT NULL DEFAULT '{}',      -- normalised flags
    seen          BOOLEAN NOT NULL DEFAULT FALSE,    -- flags hold \Seen, for unseen counts
    internal_date BIGINT NOT NULL,
    PRIMARY KEY (mailbox_id, folder_id, uid),
    FOREIGN KEY (mailbox_id, folder_id) REFERENCES folders (mailbox_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_blob ON messages (blob_id);
-- "What changed since modseq N" without scanning the folder.
CREATE INDEX messages_modseq ON messages (mailbox_id, folder_id, modseq);
CREATE INDEX messages_unseen ON messages (mailbox_id, folder_id) WHERE NOT seen;

-- UIDs removed from a folder, with the modseq of that change (CONDSTORE / QRESYNC).
CREATE TABLE expunged (
    mailbox_id BIGINT NOT NULL,
    folder_id  BIGINT NOT NULL,
    uid        BIGINT NOT NULL,
    modseq     BIGINT NOT NULL,
    PRIMARY KEY (mailbox_id, folder_id, uid),
    FOREIGN KEY (mailbox_id, folder_id) REFERENCES folders (mailbox_id, id) ON DELETE CASCADE
);
CREATE INDEX expunged_modseq ON expunged (mailbox_id, folder_id, modseq);

-- IMAP subscriptions; a name may outlive its folder (RFC 9051 6.3.7).
CREATE TABLE subscriptions (
    mailbox_id BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    name       TEXT COLLATE "C" NOT NULL,             -- listed sorted bytewise, as SQLite does
    PRIMARY KEY (mailbox_id, name)
);

CREATE TABLE queue (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- never reused
    sender       TEXT,                        -- NULL is the null reverse-path <>
    blob_id      BIGINT NOT NULL REFERENCES blobs (id),
    envelope     JSONB NOT NULL DEFAULT '{}',
    created_at   BIGINT NOT NULL,
    next_attempt BIGINT,                      -- NULL: no further attempt planned
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error   TEXT
);
CREATE INDEX queue_due ON queue (next_attempt, id) WHERE next_attempt IS NOT NULL;
CREATE INDEX queue_blob ON queue (blob_id);

CREATE TABLE queue_recipients (
    queue_id BIGINT NOT NULL REFERENCES queue (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    address  TEXT NOT NULL,                   -- wire form, local part case kept
    status   TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    detail   TEXT,
    PRIMARY KEY (queue_id, position)
);

-- The audit trail: append-only for everyone (triggers, which even the table owner meets unless
-- it disables them) and hash-chained (audit_chain) so a change made behind the triggers' back is
-- found by `mssd audit verify`. Writers serialise on an advisory lock, so ids are chained in
-- commit order.
CREATE TABLE audit (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- never reused
    at      BIGINT NOT NULL,                                  -- Unix milliseconds
    kind    TEXT NOT NULL,
    actor   TEXT NOT NULL,
    subject TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail  TEXT NOT NULL                                     -- JSON, as chained
);
CREATE INDEX audit_at ON audit (at);

CREATE TABLE audit_chain (
    audit_id BIGINT PRIMARY KEY REFERENCES audit (id),
    link     TEXT NOT NULL
);

CREATE FUNCTION mssd_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the % is append-only: % refused', TG_ARGV[0], TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION mssd_append_only('audit trail');
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION mssd_append_only('audit trail');
CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION mssd_append_only('audit chain');
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION mssd_append_only('audit chain');
-- Nobody but the owner may even try; the server's own role, when it is not the owner, gets
-- SELECT and INSERT only (docs/postgres.md shows the GRANTs).
REVOKE UPDATE, DELETE, TRUNCATE ON audit, audit_chain FROM PUBLIC;

-- Named documents kept whole (e.g. the last good liste blanche).
CREATE TABLE documents (
    name       TEXT PRIMARY KEY,
    bytes      BYTEA NOT NULL,
    sha256     TEXT NOT NULL,          -- hex SHA-256 of bytes, checked when read back
    updated_at BIGINT NOT NULL         -- Unix seconds of the last put
);

-- Rights granted on a mailbox to another mailbox.
CREATE TABLE mailbox_grants (
    mailbox_id BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    grantee_id BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    rights     TEXT NOT NULL CHECK (rights IN ('r', 'rw', 'rs', 'rws', 's', 'w', 'ws')),
    granted_at BIGINT NOT NULL,        -- Unix seconds
    PRIMARY KEY (mailbox_id, grantee_id),
    CHECK (mailbox_id <> grantee_id)
);
CREATE INDEX mailbox_grants_grantee ON mailbox_grants (grantee_id);

-- National directory (Annuaire Santé), in generations; see the SQLite migration 0004.
CREATE TABLE directory_generations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- never reused
    set_name     TEXT   NOT NULL CHECK (set_name IN ('mailboxes', 'professionals')),
    state        TEXT   NOT NULL CHECK (state IN ('building', 'current', 'retired')),
    started_at   BIGINT NOT NULL,
    committed_at BIGINT,
    source       TEXT,
    entries      BIGINT
);
CREATE UNIQUE INDEX directory_one_current_per_set
    ON directory_generations (set_name) WHERE state = 'current';

-- Keys sort bytewise (COLLATE "C"), as SQLite's, whatever the database's locale: pages of
-- `directory_mailboxes(after, limit)` follow the primary key.
CREATE TABLE directory_mailboxes (
    generation     BIGINT NOT NULL,
    address_key    TEXT   COLLATE "C" NOT NULL,
    address        TEXT   NOT NULL,
    kind           TEXT   NOT NULL,
    id_nat_ps      TEXT,
    structure_id   TEXT,
    structure_name TEXT,
    service        TEXT,
    civility       TEXT,
    last_name      TEXT,
    first_name     TEXT,
    profession     TEXT,
    specialty      TEXT,
    postal_code    TEXT,
    city           TEXT,
    red_listed     BOOLEAN NOT NULL DEFAULT FALSE,
    digest         BIGINT NOT NULL,
    lines          BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (generation, address_key)
);

CREATE TABLE directory_professionals (
    generation      BIGINT NOT NULL,
    id_nat_ps       TEXT   COLLATE "C" NOT NULL,
    civility        TEXT,
    last_name       TEXT,
    first_name      TEXT,
    profession_code TEXT,
    profession      TEXT,
    digest          BIGINT NOT NULL,
    lines           BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (generation, id_nat_ps)
);

CREATE TABLE directory_activities (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- file order
    generation     BIGINT NOT NULL,
    id_nat_ps      TEXT   COLLATE "C" NOT NULL,
    specialty      TEXT,
    practice_mode  TEXT,
    siret          TEXT,
    finess         TEXT,
    structure_id   TEXT,
    structure_name TEXT,
    postal_code    TEXT,
    city           TEXT,
    sector         TEXT
);
CREATE INDEX directory_activities_by_professional
    ON directory_activities (generation, id_nat_ps, id);

CREATE TABLE directory_red_list (
    address_key TEXT   COLLATE "C" PRIMARY KEY,
    set_at      BIGINT NOT NULL
);

-- Health documents (CDA in IHE_XDM.zip) delivered to each mailbox, one row per version.
CREATE TABLE health_documents (
    mailbox_id     BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    id             BIGINT GENERATED ALWAYS AS IDENTITY,
    folder_id      BIGINT NOT NULL,
    message_uid    BIGINT NOT NULL,
    cda_id         TEXT   NOT NULL,          -- ClinicalDocument/id as root^extension
    set_id         TEXT,
    version        BIGINT,
    code           TEXT   NOT NULL,
    title          TEXT,
    effective_time TEXT,
    author         TEXT,
    author_org     TEXT,
    patient_ids    JSONB  NOT NULL,          -- array of root^extension (health data)
    restrictions   JSONB  NOT NULL,          -- array of MetaDMP/MSS codes
    action         TEXT   NOT NULL CHECK (action IN ('new', 'replace', 'delete')),
    parent_id      TEXT,
    status         TEXT   NOT NULL CHECK (status IN ('current', 'superseded', 'withdrawn')),
    anomaly        INTEGER,
    note           TEXT,
    indexed_at     BIGINT NOT NULL,
    PRIMARY KEY (mailbox_id, id)
);
CREATE INDEX health_documents_by_id ON health_documents (mailbox_id, cda_id);

CREATE TABLE usage_indicators (
    month          TEXT   NOT NULL,          -- YYYY-MM (UTC)
    mailbox        TEXT   NOT NULL,          -- canonical address
    direction      TEXT   NOT NULL CHECK (direction IN ('sent', 'received')),
    messages       BIGINT NOT NULL,
    xdm_messages   BIGINT NOT NULL,
    documents      BIGINT NOT NULL,
    qualified_ins  BIGINT NOT NULL,
    PRIMARY KEY (month, mailbox, direction)
);

CREATE TABLE citizen_exchanges (
    professional   TEXT    NOT NULL,
    citizen        TEXT    NOT NULL,
    wrote_open     BOOLEAN NOT NULL,
    last_at        BIGINT  NOT NULL,
    PRIMARY KEY (professional, citizen)
);
CREATE TABLE closed_messages (
    citizen        TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    professional   TEXT NOT NULL,
    PRIMARY KEY (citizen, message_id)
);

-- New-message notifications for citizen mailboxes: a durable outbox.
CREATE TABLE notifications (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_id     BIGINT  NOT NULL,
    new_messages   INTEGER NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at        BIGINT  NOT NULL,
    created_at     BIGINT  NOT NULL,
    last_error     TEXT
);
CREATE INDEX notifications_due ON notifications (next_at, id);
