//! A small pool of read-only connections used from `spawn_blocking`, bounded by a semaphore.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Semaphore;

use super::connection::{DbResult, open_reader};
use crate::error::{Error, Result};

pub(crate) struct ReadPool {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl ReadPool {
    pub(crate) fn new(path: PathBuf, size: usize) -> ReadPool {
        ReadPool {
            path,
            idle: Arc::new(Mutex::new(Vec::new())),
            permits: Arc::new(Semaphore::new(size.max(1))),
        }
    }

    /// Runs `read` on a pooled connection inside one read transaction, so all its queries see the
    /// same snapshot. Never on a runtime thread.
    pub(crate) async fn run<T, F>(&self, read: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| Error::Sqlite("running a read: the read pool is closed".to_owned()))?;
        let idle = Arc::clone(&self.idle);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let pooled = idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => open_reader(&path)?,
            };
            let result = in_read_transaction(&conn, read);
            idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            result
        })
        .await
        .map_err(|e| Error::Sqlite(format!("running a read: the blocking task failed: {e}")))?
    }
}

fn in_read_transaction<T>(
    conn: &Connection,
    read: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    let tx = conn
        .unchecked_transaction()
        .db("beginning a read transaction")?;
    let result = read(&tx);
    // Nothing to keep: ending the read transaction releases the snapshot.
    let ended = tx.rollback();
    let value = result?;
    ended.db("ending a read transaction")?;
    Ok(value)
}
