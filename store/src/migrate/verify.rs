//! Verification: for every table, the row count and a SHA-256 over its rows in key order, each
//! value in a canonical form both backends produce alike (booleans, flag lists, JSON with
//! sorted keys, bytes by their SHA-256). Every message's bytes are hashed on both sides: on
//! SQLite reassembled from the row and its blob file, on PostgreSQL by the server
//! (`sha256(bytes)`), so no body crosses the network again.

use sha2::{Digest, Sha256};

use super::plan::{Kind, TableSpec};
use super::source::{Cell, Source};
use super::target::Conn;
use crate::error::{Error, Result};
use crate::postgres::PgResult;

/// Rows fetched per round trip when reading a table back.
const PAGE_ROWS: i32 = 500;

/// A value in the form both sides agree on.
enum Canon {
    Null,
    Int(i64),
    Text(String),
    /// SHA-256 of bytes.
    Digest(Vec<u8>),
    Bool(bool),
    List(Vec<String>),
}

/// Row count and digest of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableDigest {
    pub rows: u64,
    pub digest: String,
}

struct RowHasher {
    hasher: Sha256,
    rows: u64,
}

impl RowHasher {
    fn new() -> RowHasher {
        RowHasher {
            hasher: Sha256::new(),
            rows: 0,
        }
    }

    /// Each value tagged and length-prefixed, so no two rows hash alike by accident.
    fn row(&mut self, values: &[Canon]) {
        self.rows += 1;
        for v in values {
            match v {
                Canon::Null => self.hasher.update([0u8]),
                Canon::Int(i) => {
                    self.hasher.update([1u8]);
                    self.hasher.update(i.to_be_bytes());
                }
                Canon::Text(t) => self.bytes(2, t.as_bytes()),
                Canon::Digest(d) => self.bytes(3, d),
                Canon::Bool(b) => self.hasher.update([4u8, u8::from(*b)]),
                Canon::List(items) => {
                    self.hasher.update([5u8]);
                    self.hasher.update((items.len() as u64).to_be_bytes());
                    for item in items {
                        self.bytes(2, item.as_bytes());
                    }
                }
            }
        }
        self.hasher.update([0xff]);
    }

    fn bytes(&mut self, tag: u8, bytes: &[u8]) {
        self.hasher.update([tag]);
        self.hasher.update((bytes.len() as u64).to_be_bytes());
        self.hasher.update(bytes);
    }

    fn finish(self) -> TableDigest {
        TableDigest {
            rows: self.rows,
            digest: hex::encode(self.hasher.finalize()),
        }
    }
}

/// The digest of `spec` on the SQLite side.
pub(crate) fn source_digest(source: &Source, spec: &TableSpec) -> Result<TableDigest> {
    let mut hasher = RowHasher::new();
    source.each_row(spec, |cells| {
        let values = cells
            .into_iter()
            .zip(spec.columns)
            .map(|(cell, column)| canon_of_cell(spec, column.name, column.kind, cell))
            .collect::<Result<Vec<_>>>()?;
        hasher.row(&values);
        Ok(())
    })?;
    Ok(hasher.finish())
}

fn canon_of_cell(spec: &TableSpec, column: &str, kind: Kind, cell: Cell) -> Result<Canon> {
    let bad = |cell: &Cell| {
        Error::corrupt(
            spec.name,
            format!("column {column} holds {cell:?}, not the type the schema says"),
        )
    };
    Ok(match (kind, cell) {
        (_, Cell::Null) => Canon::Null,
        (Kind::Int, Cell::Int(i)) => Canon::Int(i),
        (Kind::Text, Cell::Text(t)) => Canon::Text(t),
        (Kind::Bytes, Cell::Bytes(b)) => Canon::Digest(Sha256::digest(&b).to_vec()),
        (Kind::Bytes, Cell::Text(t)) => Canon::Digest(Sha256::digest(t.as_bytes()).to_vec()),
        (Kind::Bool, Cell::Int(i)) => Canon::Bool(i != 0),
        (Kind::Json, Cell::Text(t)) => Canon::Text(canonical_json(spec, &t)?),
        (Kind::Flags, Cell::Text(t)) => Canon::List(
            serde_json::from_str(&t)
                .map_err(|_| Error::corrupt(spec.name, format!("{column} is not a JSON list")))?,
        ),
        (_, cell) => return Err(bad(&cell)),
    })
}

/// The digest of `spec` on the PostgreSQL side, rows streamed in the order SQLite gives.
pub(crate) async fn target_digest(conn: &mut Conn, spec: &TableSpec) -> Result<TableDigest> {
    let columns: Vec<String> = spec
        .columns
        .iter()
        .map(|c| match c.kind {
            Kind::Int => format!("{}::int8", c.name),
            Kind::Bytes => format!("sha256({})", c.name),
            Kind::Json => format!("{}::text", c.name),
            Kind::Text | Kind::Bool | Kind::Flags => c.name.to_owned(),
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns.join(", "),
        spec.name,
        spec.target_order()
    );
    let doing = format!("reading {} back", spec.name);
    // A portal read in pages keeps memory bounded whatever the table's size.
    let tx = conn.transaction().await.pg(&doing)?;
    let stmt = tx.prepare(&sql).await.pg(&doing)?;
    let portal = tx.bind(&stmt, &[]).await.pg(&doing)?;
    let mut hasher = RowHasher::new();
    let mut values = Vec::with_capacity(spec.columns.len());
    loop {
        let page = tx.query_portal(&portal, PAGE_ROWS).await.pg(&doing)?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            values.clear();
            for (i, c) in spec.columns.iter().enumerate() {
                let value = match c.kind {
                    Kind::Int => row.get::<_, Option<i64>>(i).map(Canon::Int),
                    Kind::Text => row.get::<_, Option<String>>(i).map(Canon::Text),
                    Kind::Bytes => row.get::<_, Option<Vec<u8>>>(i).map(Canon::Digest),
                    Kind::Bool => row.get::<_, Option<bool>>(i).map(Canon::Bool),
                    Kind::Json => row
                        .get::<_, Option<String>>(i)
                        .map(|t| canonical_json(spec, &t).map(Canon::Text))
                        .transpose()?,
                    Kind::Flags => row.get::<_, Option<Vec<String>>>(i).map(Canon::List),
                };
                values.push(value.unwrap_or(Canon::Null));
            }
            hasher.row(&values);
        }
    }
    tx.commit().await.pg(&doing)?;
    Ok(hasher.finish())
}

/// JSON text with object keys sorted and no spaces (JSONB reorders keys; SQLite keeps the
/// text as written).
fn canonical_json(spec: &TableSpec, text: &str) -> Result<String> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| Error::corrupt(spec.name, "a JSON column does not hold JSON"))?;
    let mut out = String::with_capacity(text.len());
    write_canonical(&value, &mut out);
    Ok(out)
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::from(key.as_str()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::plan::TABLES;

    #[test]
    fn json_keys_are_sorted_whatever_their_order() {
        let queue = TABLES.iter().find(|t| t.name == "queue").unwrap();
        assert_eq!(
            canonical_json(queue, r#"{"b": [1, {"z":2,"a":3}], "a": "x"}"#).unwrap(),
            r#"{"a":"x","b":[1,{"a":3,"z":2}]}"#
        );
    }
}
