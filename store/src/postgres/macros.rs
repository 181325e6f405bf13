//! The transaction shapes every `PostgresStore` method uses (`write!`, `write_publishing!`,
//! `read!`), shared by the `Store` and `DirectoryStore` implementations. Call sites need
//! `PgResult` in scope (for `.pg(…)`).

/// Runs `$body` (which uses the transaction `$tx`) in a read-write transaction and commits.
macro_rules! write {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut conn = $store.conn().await?;
        let $tx = conn.transaction().await.pg("beginning a transaction")?;
        let value = $body;
        $tx.commit().await.pg("committing")?;
        $store.counted_commit();
        Ok::<_, crate::error::Error>(value)
    }};
}

/// Like `write!`, for a `$body` giving `(value, folder changes)`: the changes are notified to
/// the other nodes in the transaction and published here after the commit.
macro_rules! write_publishing {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut conn = $store.conn().await?;
        let $tx = conn.transaction().await.pg("beginning a transaction")?;
        let (value, changes) = $body;
        crate::postgres::notify::send(&$tx, $store.node(), &changes).await?;
        $tx.commit().await.pg("committing")?;
        $store.counted_commit();
        $store.publish_changes(changes);
        Ok::<_, crate::error::Error>(value)
    }};
}

/// Runs `$body` in a read-only transaction (one snapshot for a multi-statement read).
macro_rules! read {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut conn = $store.conn().await?;
        let $tx = conn
            .build_transaction()
            .read_only(true)
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .start()
            .await
            .pg("beginning a read")?;
        let value = $body;
        $tx.commit().await.pg("ending a read")?;
        Ok::<_, crate::error::Error>(value)
    }};
}
