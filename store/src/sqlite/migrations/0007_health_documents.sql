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
