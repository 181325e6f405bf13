//! What is copied: every table of the SQLite schema (version 9) that has a PostgreSQL
//! counterpart, in an order that satisfies the PostgreSQL foreign keys, with the SQLite
//! expression and the PostgreSQL type of each column.
//!
//! Left out on purpose: `blob_garbage` (names of SQLite blob files already unreferenced, to be
//! removed from the source's disk; nothing on PostgreSQL refers to them) and `sqlite_sequence`
//! (read to set the PostgreSQL identity sequences past every id SQLite ever handed out).

/// How a value crosses from SQLite to PostgreSQL (docs/postgres.md, "Schema").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// INTEGER → BIGINT (or INTEGER: PostgreSQL's assignment cast narrows it).
    Int,
    /// TEXT → TEXT.
    Text,
    /// BLOB → BYTEA.
    Bytes,
    /// 0/1 INTEGER → BOOLEAN.
    Bool,
    /// JSON text → JSONB.
    Json,
    /// JSON array of flags → TEXT[].
    Flags,
}

/// One column: its PostgreSQL name, the SQLite expression giving its value, its translation.
#[derive(Debug)]
pub(crate) struct Column {
    pub name: &'static str,
    pub source: &'static str,
    pub kind: Kind,
}

/// One table to copy.
#[derive(Debug)]
pub(crate) struct TableSpec {
    /// The PostgreSQL table (and, but for joins, the SQLite one).
    pub name: &'static str,
    /// The SQLite FROM clause (joins supply what PostgreSQL denormalises: a message's
    /// mailbox, size and digest).
    pub from: &'static str,
    pub columns: &'static [Column],
    /// Positions in `columns` of a unique key of the SQLite rows: batches follow it, and the
    /// progress table records the last one copied.
    pub key: &'static [usize],
    /// The identity column on PostgreSQL: values are inserted as they are (OVERRIDING SYSTEM
    /// VALUE) and its sequence is set past them afterwards.
    pub identity: Option<&'static str>,
    /// `blobs`: the SQLite row may name a blob file holding the bytes after `bytes`.
    pub blob_files: bool,
}

impl TableSpec {
    /// The key columns' SQLite expressions, comma-separated.
    pub fn source_key(&self) -> String {
        self.key
            .iter()
            .map(|&i| self.columns[i].source)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// ORDER BY on PostgreSQL matching SQLite's order (text compared bytewise, as SQLite's
    /// BINARY collation does).
    pub fn target_order(&self) -> String {
        self.key
            .iter()
            .map(|&i| {
                let c = &self.columns[i];
                if c.kind == Kind::Text {
                    format!("{} COLLATE \"C\"", c.name)
                } else {
                    c.name.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

const fn int(name: &'static str) -> Column {
    Column {
        name,
        source: name,
        kind: Kind::Int,
    }
}

const fn text(name: &'static str) -> Column {
    Column {
        name,
        source: name,
        kind: Kind::Text,
    }
}

const fn of(name: &'static str, source: &'static str, kind: Kind) -> Column {
    Column { name, source, kind }
}

const fn table(
    name: &'static str,
    columns: &'static [Column],
    key: &'static [usize],
    identity: Option<&'static str>,
) -> TableSpec {
    TableSpec {
        name,
        from: name,
        columns,
        key,
        identity,
        blob_files: false,
    }
}

/// Every table, parents before children.
pub(crate) const TABLES: &[TableSpec] = &[
    table("meta", &[text("key"), int("value")], &[0], None),
    table(
        "mailboxes",
        &[
            int("id"),
            text("address"),
            text("address_text"),
            text("kind"),
            text("display_name"),
            text("owner_id_nat"),
            text("password_hash"),
            text("certificate_dn"),
            int("quota_bytes"),
            text("status"),
            int("created_at"),
            int("used_bytes"),
            int("used_messages"),
        ],
        &[0],
        Some("id"),
    ),
    table(
        "folders",
        &[
            int("id"),
            int("mailbox_id"),
            text("name"),
            text("special_use"),
            int("uid_validity"),
            int("uid_next"),
            int("highest_modseq"),
        ],
        &[0],
        Some("id"),
    ),
    TableSpec {
        name: "blobs",
        from: "blobs",
        columns: &[
            int("id"),
            text("sha256"),
            int("size"),
            of("bytes", "bytes", Kind::Bytes),
        ],
        key: &[0],
        identity: Some("id"),
        blob_files: true,
    },
    table(
        "blob_summaries",
        &[int("blob_id"), of("summary", "summary", Kind::Bytes)],
        &[0],
        None,
    ),
    TableSpec {
        name: "messages",
        from: "messages m JOIN folders f ON f.id = m.folder_id JOIN blobs b ON b.id = m.blob_id",
        columns: &[
            of("mailbox_id", "f.mailbox_id", Kind::Int),
            of("folder_id", "m.folder_id", Kind::Int),
            of("uid", "m.uid", Kind::Int),
            of("modseq", "m.modseq", Kind::Int),
            of("blob_id", "m.blob_id", Kind::Int),
            of("size", "b.size", Kind::Int),
            of("sha256", "b.sha256", Kind::Text),
            of("flags", "m.flags", Kind::Flags),
            of("seen", "m.seen", Kind::Bool),
            of("internal_date", "m.internal_date", Kind::Int),
        ],
        key: &[1, 2],
        identity: None,
        blob_files: false,
    },
    TableSpec {
        name: "expunged",
        from: "expunged e JOIN folders f ON f.id = e.folder_id",
        columns: &[
            of("mailbox_id", "f.mailbox_id", Kind::Int),
            of("folder_id", "e.folder_id", Kind::Int),
            of("uid", "e.uid", Kind::Int),
            of("modseq", "e.modseq", Kind::Int),
        ],
        key: &[1, 2],
        identity: None,
        blob_files: false,
    },
    table(
        "subscriptions",
        &[int("mailbox_id"), text("name")],
        &[0, 1],
        None,
    ),
    table(
        "queue",
        &[
            int("id"),
            text("sender"),
            int("blob_id"),
            of("envelope", "envelope", Kind::Json),
            int("created_at"),
            int("next_attempt"),
            int("attempts"),
            text("last_error"),
            // A lease held by a runner when the copy was taken (none if the server was
            // stopped cleanly); carried as it is, it expires as it would have.
            int("lease_until"),
        ],
        &[0],
        Some("id"),
    ),
    table(
        "queue_recipients",
        &[
            int("queue_id"),
            int("position"),
            text("address"),
            text("status"),
            text("detail"),
        ],
        &[0, 1],
        None,
    ),
    table(
        "audit",
        &[
            int("id"),
            int("at"),
            text("kind"),
            text("actor"),
            text("subject"),
            text("outcome"),
            // Kept as the exact text that was chained: re-serialised JSON would break links.
            text("detail"),
        ],
        &[0],
        Some("id"),
    ),
    table("audit_chain", &[int("audit_id"), text("link")], &[0], None),
    table(
        "documents",
        &[
            text("name"),
            of("bytes", "bytes", Kind::Bytes),
            text("sha256"),
            int("updated_at"),
        ],
        &[0],
        None,
    ),
    table(
        "mailbox_grants",
        &[
            int("mailbox_id"),
            int("grantee_id"),
            text("rights"),
            int("granted_at"),
        ],
        &[0, 1],
        None,
    ),
    table(
        "directory_generations",
        &[
            int("id"),
            text("set_name"),
            text("state"),
            int("started_at"),
            int("committed_at"),
            text("source"),
            int("entries"),
        ],
        &[0],
        Some("id"),
    ),
    table(
        "directory_mailboxes",
        &[
            int("generation"),
            text("address_key"),
            text("address"),
            text("kind"),
            text("id_nat_ps"),
            text("structure_id"),
            text("structure_name"),
            text("service"),
            text("civility"),
            text("last_name"),
            text("first_name"),
            text("profession"),
            text("specialty"),
            text("postal_code"),
            text("city"),
            of("red_listed", "red_listed", Kind::Bool),
            int("digest"),
            int("lines"),
        ],
        &[0, 1],
        None,
    ),
    table(
        "directory_professionals",
        &[
            int("generation"),
            text("id_nat_ps"),
            text("civility"),
            text("last_name"),
            text("first_name"),
            text("profession_code"),
            text("profession"),
            int("digest"),
            int("lines"),
        ],
        &[0, 1],
        None,
    ),
    table(
        "directory_activities",
        &[
            // SQLite keeps file order in the rowid; PostgreSQL in an identity column.
            of("id", "rowid", Kind::Int),
            int("generation"),
            text("id_nat_ps"),
            text("specialty"),
            text("practice_mode"),
            text("siret"),
            text("finess"),
            text("structure_id"),
            text("structure_name"),
            text("postal_code"),
            text("city"),
            text("sector"),
        ],
        &[0],
        Some("id"),
    ),
    table(
        "directory_red_list",
        &[text("address_key"), int("set_at")],
        &[0],
        None,
    ),
    table(
        "health_documents",
        &[
            int("id"),
            int("mailbox_id"),
            int("folder_id"),
            int("message_uid"),
            text("cda_id"),
            text("set_id"),
            int("version"),
            text("code"),
            text("title"),
            text("effective_time"),
            text("author"),
            text("author_org"),
            of("patient_ids", "patient_ids", Kind::Json),
            of("restrictions", "restrictions", Kind::Json),
            text("action"),
            text("parent_id"),
            text("status"),
            int("anomaly"),
            text("note"),
            int("indexed_at"),
        ],
        &[0],
        Some("id"),
    ),
    table(
        "usage_indicators",
        &[
            text("month"),
            text("mailbox"),
            text("direction"),
            int("messages"),
            int("xdm_messages"),
            int("documents"),
            int("qualified_ins"),
        ],
        &[0, 1, 2],
        None,
    ),
    table(
        "citizen_exchanges",
        &[
            text("professional"),
            text("citizen"),
            of("wrote_open", "wrote_open", Kind::Bool),
            int("last_at"),
        ],
        &[0, 1],
        None,
    ),
    table(
        "closed_messages",
        &[text("citizen"), text("message_id"), text("professional")],
        &[0, 1],
        None,
    ),
    table(
        "notifications",
        &[
            int("id"),
            int("mailbox_id"),
            int("new_messages"),
            int("attempts"),
            int("next_at"),
            int("created_at"),
            text("last_error"),
        ],
        &[0],
        Some("id"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_point_at_columns() {
        for t in TABLES {
            assert!(!t.key.is_empty(), "{}", t.name);
            for &k in t.key {
                assert!(k < t.columns.len(), "{}", t.name);
            }
        }
    }

    /// Every table of the PostgreSQL schema but the bookkeeping ones is in the plan.
    #[test]
    fn plan_covers_the_postgres_schema() {
        let schema = crate::postgres_migration_scripts().concat();
        for line in schema.lines() {
            if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                let name = rest.split_whitespace().next().unwrap_or_default();
                if name == "blob_garbage" {
                    continue;
                }
                assert!(
                    TABLES.iter().any(|t| t.name == name),
                    "table {name} is not copied"
                );
            }
        }
    }
}
