-- Schema version 6: the size and hash of each blob in an index of their own, so listing a
-- folder reads small index pages instead of one blob page per message.
CREATE INDEX blobs_meta ON blobs(id, size, sha256);
