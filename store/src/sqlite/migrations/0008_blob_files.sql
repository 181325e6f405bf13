-- Schema version 8: large message bodies in files beside the database, and listing summaries.
-- `file` names the blob file holding the bytes that follow `bytes` (then the message's head);
-- NULL for a message held whole in `bytes`.
ALTER TABLE blobs ADD COLUMN file TEXT;
CREATE UNIQUE INDEX blobs_file ON blobs(file) WHERE file IS NOT NULL;

-- Files whose rows were deleted, removed from disk once that deletion is committed.
CREATE TABLE blob_garbage (
    file TEXT PRIMARY KEY
) WITHOUT ROWID;

-- What an IMAP listing (FETCH FLAGS ENVELOPE) needs of each message, written when it is stored,
-- so a folder is listed without reading message bodies. A table of its own: a column after
-- `blobs.bytes` would be read through the body's overflow pages. Opaque to the store.
CREATE TABLE blob_summaries (
    blob_id INTEGER PRIMARY KEY REFERENCES blobs(id) ON DELETE CASCADE,
    summary BLOB NOT NULL
);
