-- Schema version 9: a hash chain over the audit trail (`mssd audit verify`). Each record's link
-- is the SHA-256 of the previous link and of the record as stored; records written before this
-- version are chained by the first audit write after it. Append-only like the trail.
CREATE TABLE audit_chain (
    audit_id INTEGER PRIMARY KEY REFERENCES audit(id),
    link     TEXT NOT NULL
);
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'the audit chain is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'the audit chain is append-only: DELETE refused');
END;
-- `mssd audit search --since/--until`.
CREATE INDEX audit_at ON audit (at);
