-- Schema version 7: the index of the health documents (CDA in IHE_XDM.zip) delivered to each
-- mailbox, one row per document version, written in the delivery's transaction; and the
-- monthly usage counters the ANS asks operators to report.
CREATE TABLE health_documents (
    id             INTEGER PRIMARY KEY,
    mailbox_id     INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    folder_id      INTEGER NOT NULL,
    message_uid    INTEGER NOT NULL,
    cda_id         TEXT    NOT NULL,          -- ClinicalDocument/id as root^extension
    set_id         TEXT,
    version        INTEGER,
    code           TEXT    NOT NULL,
    title          TEXT,
    effective_time TEXT,
    author         TEXT,
    author_org     TEXT,
    patient_ids    TEXT    NOT NULL,          -- JSON array of root^extension (health data)
    restrictions   TEXT    NOT NULL,          -- JSON array of MetaDMP/MSS codes
    action         TEXT    NOT NULL CHECK (action IN ('new', 'replace', 'delete')),
    parent_id      TEXT,                      -- the replaced or deleted document
    status         TEXT    NOT NULL CHECK (status IN ('current', 'superseded', 'withdrawn')),
    anomaly        INTEGER,                   -- ANS applicationErrorCondition (900, 901)
    note           TEXT,
    indexed_at     INTEGER NOT NULL
);
CREATE INDEX health_documents_by_id ON health_documents(mailbox_id, cda_id);

CREATE TABLE usage_indicators (
    month          TEXT    NOT NULL,          -- YYYY-MM (UTC)
    mailbox        TEXT    NOT NULL,          -- canonical address
    direction      TEXT    NOT NULL CHECK (direction IN ('sent', 'received')),
    messages       INTEGER NOT NULL,
    xdm_messages   INTEGER NOT NULL,
    documents      INTEGER NOT NULL,
    qualified_ins  INTEGER NOT NULL,          -- documents with a complete, accepted INS
    PRIMARY KEY (month, mailbox, direction)
);

-- What the rules between professionals and citizens read: whether professional P wrote to
-- citizen C, and whether at least once without X-MSS-MES: FIN; and the Message-IDs of the
-- FIN messages, so a reply to one is recognised. Addresses are canonical.
CREATE TABLE citizen_exchanges (
    professional   TEXT    NOT NULL,
    citizen        TEXT    NOT NULL,
    wrote_open     INTEGER NOT NULL,          -- 1 once a message without FIN was accepted
    last_at        INTEGER NOT NULL,
    PRIMARY KEY (professional, citizen)
);
CREATE TABLE closed_messages (
    citizen        TEXT    NOT NULL,
    message_id     TEXT    NOT NULL,          -- as written, without angle brackets
    professional   TEXT    NOT NULL,
    PRIMARY KEY (citizen, message_id)
);

-- New-message notifications for citizen mailboxes: a durable outbox, written with the
-- delivery, drained by the notifier (no health data: the mailbox id and counts only).
CREATE TABLE notifications (
    id             INTEGER PRIMARY KEY,
    mailbox_id     INTEGER NOT NULL,
    new_messages   INTEGER NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    last_error     TEXT
);
CREATE INDEX notifications_due ON notifications(next_at);
