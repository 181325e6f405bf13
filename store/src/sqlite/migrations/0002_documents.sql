-- Schema version 2: named documents kept whole (e.g. the last good liste blanche), so a
-- restart without network can enforce what was last accepted.

CREATE TABLE documents (
    name       TEXT PRIMARY KEY,
    bytes      BLOB NOT NULL,
    sha256     TEXT NOT NULL,          -- hex SHA-256 of bytes, checked when read back
    updated_at INTEGER NOT NULL        -- Unix seconds of the last put
) WITHOUT ROWID;
