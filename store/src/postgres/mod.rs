//! The PostgreSQL implementation of [`crate::Store`] (issue #15), beside the SQLite one whose
//! semantics it follows (`crate::sqlite` is the reference; see docs/postgres.md).
//!
//! Every operation is one transaction on a pooled connection (deadpool-postgres). Durable
//! before acknowledged: connections run with `synchronous_commit` at least `on` (checked at
//! connect), so `COMMIT` returns once the WAL is flushed. Unlike SQLite there is no single
//! writer: concurrent writers serialise on row locks — every write into a mailbox's folders
//! first locks the mailbox row (`FOR UPDATE`, in mailbox id order), and audit appends take an
//! advisory lock so the hash chain follows commit order. Accepted messages, which all append
//! to the trail, are committed in groups (`group_commit`): one transaction, one audit lock and
//! one WAL flush for many messages, each in its own savepoint. Folder changes reach the change feeds
//! of the other nodes by LISTEN/NOTIFY (`notify`).

#[macro_use]
mod macros;
mod accept_job;
mod accept_pipelined;
mod accept_statements;
mod audit;
mod blobs;
mod deliver_batch;
mod directory;
mod directory_impl;
mod folders;
mod group_commit;
mod health_docs;
mod job_lock;
mod mailboxes;
mod messages;
mod migrations;
mod notify;
mod queue;
mod small;
mod store_impl;
mod tls;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use tracing::info;

use crate::blob_files::BlobDir;
use crate::change_feed::ChangeFeed;
use crate::error::{Error, Result};
use crate::model::{Delivered, FolderChange, WriterStats};
use crate::sqlite::ListingSummarizer;
use group_commit::{CommitContext, GroupCommitter, GroupLimits, WriteCounters};
pub use migrations::{postgres_latest_schema_version, postgres_migration_scripts};
pub use tls::PostgresTls;

/// A transaction on a pooled connection (with its prepared-statement cache).
pub(crate) type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// Parameters of one statement.
pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// Tuning and transport of a [`PostgresStore`].
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections kept by the pool (at least 1).
    pub pool_size: usize,
    /// TLS to the server (`sslmode` in the URL says whether it is required).
    pub tls: PostgresTls,
    /// Where the bodies of large messages being received are streamed before they are stored
    /// ([`crate::Store::new_blob`]); created if missing. Files there are removed once stored.
    pub staging_dir: PathBuf,
    /// The role's password, when the URL has none (read from a file, so it is not in the URL).
    pub password: Option<String>,
}

impl PostgresOptions {
    /// `pool_size` connections, no TLS, staging files under the system temporary directory.
    pub fn new(pool_size: usize) -> PostgresOptions {
        PostgresOptions {
            pool_size,
            tls: PostgresTls::Disabled,
            staging_dir: std::env::temp_dir().join(format!("mssd-staging-{}", std::process::id())),
            password: None,
        }
    }
}

/// Longest wait for a pooled connection when all are busy (or the database is unreachable).
const POOL_WAIT: Duration = Duration::from_secs(15);
/// Longest wait to open a connection, or to check one given back.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle time before TCP keepalives probe a connection (libpq's default is 2 hours).
const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);

/// A store in a PostgreSQL database.
pub struct PostgresStore {
    pool: Pool,
    staging: BlobDir,
    summarizer: Option<ListingSummarizer>,
    feed: ChangeFeed,
    counters: Arc<WriteCounters>,
    /// Where `accept` queues its work (see `group_commit`).
    committer: GroupCommitter,
    /// What [`crate::Store::health`] shows as the database "path": host and database name.
    target: String,
    /// This store's name in change notifications, to skip its own.
    node: String,
    /// The task listening for other nodes' changes (aborted when the store goes).
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl PostgresStore {
    /// Connects to `url` (a libpq URL or key=value string), checks durability settings and
    /// brings the schema to [`postgres_latest_schema_version`]; a database at a newer version
    /// is refused.
    pub async fn connect(url: &str, options: PostgresOptions) -> Result<PostgresStore> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| Error::invalid("postgres url", format!("{e}")))?;
        if config.get_application_name().is_none() {
            config.application_name("mssd");
        }
        // A host that vanishes: connecting gives up, and an idle connection is found dead by
        // TCP keepalives (the URL's own settings win).
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_keepalives() && config.get_keepalives_idle() == Duration::from_secs(2 * 3600)
        {
            config.keepalives_idle(KEEPALIVE_IDLE);
        }
        if let Some(password) = &options.password {
            config.password(password.as_bytes());
        }
        let target = describe(&config);
        let listen_config = config.clone();
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match &options.tls {
            PostgresTls::Disabled => {
                Manager::from_config(config, tokio_postgres::NoTls, manager_config)
            }
            PostgresTls::Rustls(client) => Manager::from_config(
                config,
                tls::MakeRustlsConnect::new(client.clone()),
                manager_config,
            ),
        };
        // A database that stops answering must turn into errors (SMTP 451, IMAP NO), not
        // sessions waiting for ever: bounded waits for a free connection, a new connection and
        // the check of a returned one.
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| Error::Postgres(format!("building the connection pool: {e}")))?;
        let staging = BlobDir::open(options.staging_dir.clone())?;
        let feed = ChangeFeed::new();
        let node = hex::encode(rand::random::<[u8; 8]>());
        let listener = tokio::spawn(
            notify::Listener {
                config: listen_config,
                tls: options.tls.clone(),
                feed: feed.clone(),
                node: node.clone(),
                pool: pool.clone(),
            }
            .run(),
        );
        let counters = Arc::new(WriteCounters::default());
        let committer = GroupCommitter::start(
            CommitContext {
                pool: pool.clone(),
                node: node.clone(),
                feed: feed.clone(),
                counters: Arc::clone(&counters),
            },
            GroupLimits::for_pool(options.pool_size),
        );
        let store = PostgresStore {
            pool,
            staging,
            summarizer: None,
            feed,
            counters,
            committer,
            target,
            node,
            listener,
        };
        {
            let mut conn = store.conn().await?;
            check_durability(&conn).await?;
            let version = migrations::migrate(&mut conn, migrations::MIGRATIONS).await?;
            info!(target = %store.target, schema_version = version, "postgres store opened");
        }
        Ok(store)
    }

    /// Computes each new message's listing summary with `summarize` (given its header block).
    pub fn set_listing_summarizer(&mut self, summarize: ListingSummarizer) {
        self.summarizer = Some(summarize);
    }

    /// Closes the pool's connections and stops listening for other nodes' changes.
    pub fn close(&self) {
        self.listener.abort();
        self.pool.close();
    }

    pub(crate) async fn conn(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| {
            Error::Postgres(format!(
                "getting a connection from the pool: {}",
                with_sources(&e)
            ))
        })
    }

    pub(crate) fn counted_commit(&self) {
        self.counters.committed(1);
    }

    pub(crate) fn writer_stats(&self) -> WriterStats {
        self.counters.snapshot()
    }

    pub(crate) fn committer(&self) -> &GroupCommitter {
        &self.committer
    }

    fn publish(&self, changes: Vec<FolderChange>) {
        for change in changes {
            self.feed.publish(change);
        }
    }
}

/// `host[:port]/dbname`, without user or password.
pub(crate) fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("");
    format!("postgresql://{host}:{port}/{db}")
}

/// Refuses a server that would acknowledge a commit before its WAL is flushed.
async fn check_durability(conn: &deadpool_postgres::Object) -> Result<()> {
    let show = |setting: &'static str| async move {
        let row = conn
            .query_one(&format!("SHOW {setting}"), &[])
            .await
            .pg(&format!("reading {setting}"))?;
        Ok::<String, Error>(row.get(0))
    };
    let commit = show("synchronous_commit").await?;
    for (setting, value) in [
        ("synchronous_commit", &commit),
        ("fsync", &show("fsync").await?),
    ] {
        if value.eq_ignore_ascii_case("off") {
            return Err(Error::Postgres(format!(
                "checking durability: {setting} = {value}; mssd acknowledges a message only \
                 once it is durable, set {setting} = on (synchronous_commit may also be \
                 remote_write or remote_apply)"
            )));
        }
    }
    // With a synchronous standby, `local` acknowledges commits the standby may not have: a
    // failover would lose messages mssd answered 250 for.
    let standbys = show("synchronous_standby_names").await?;
    if !standbys.trim().is_empty() && commit.eq_ignore_ascii_case("local") {
        return Err(Error::Postgres(format!(
            "checking durability: synchronous_commit = local while synchronous_standby_names = \
             '{standbys}': a failover would lose acknowledged messages; set synchronous_commit \
             = on (or remote_apply)"
        )));
    }
    Ok(())
}

/// Maps driver errors into ours, saying what we were doing. Only the server's message is kept
/// (its DETAIL may quote row values: addresses, folder names).
pub(crate) trait PgResult<T> {
    fn pg(self, doing: &str) -> Result<T>;
}

impl<T> PgResult<T> for std::result::Result<T, tokio_postgres::Error> {
    fn pg(self, doing: &str) -> Result<T> {
        self.map_err(|e| pg_error(doing, &e))
    }
}

pub(crate) fn pg_error(doing: &str, e: &tokio_postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => Error::Postgres(format!("{doing}: {}: {}", db.code().code(), db.message())),
        None => Error::Postgres(format!("{doing}: {}", with_sources(e))),
    }
}

/// An error and its sources, `: `-separated (the TLS or I/O cause of a connection failure is
/// a source, not in the outer message).
fn with_sources(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

pub(crate) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}

/// Prepares `statements` (once per connection; their preparations pipelined). Statements sent
/// together for the server to run in order must be prepared first: an unprepared one goes out
/// only after its preparation came back, behind those sent meanwhile.
pub(crate) async fn prepare_all<C: GenericClient>(c: &C, statements: &[&str]) -> Result<()> {
    futures_util::future::try_join_all(statements.iter().map(|sql| c.prepare_cached(sql)))
        .await
        .pg("preparing statements")?;
    Ok(())
}

/// Runs `sql` (prepared once per connection) and returns its rows.
pub(crate) async fn query<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &Params<'_>,
) -> Result<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await.pg("preparing a statement")?;
    c.query(&stmt, params).await.pg(doing(sql))
}

/// At most one row.
pub(crate) async fn query_opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &Params<'_>,
) -> Result<Option<Row>> {
    let stmt = c.prepare_cached(sql).await.pg("preparing a statement")?;
    c.query_opt(&stmt, params).await.pg(doing(sql))
}

/// Exactly one row.
pub(crate) async fn query_one<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &Params<'_>,
) -> Result<Row> {
    let stmt = c.prepare_cached(sql).await.pg("preparing a statement")?;
    c.query_one(&stmt, params).await.pg(doing(sql))
}

/// Rows changed.
pub(crate) async fn execute<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &Params<'_>,
) -> Result<u64> {
    let stmt = c.prepare_cached(sql).await.pg("preparing a statement")?;
    c.execute(&stmt, params).await.pg(doing(sql))
}

/// The statement's first words, to say what failed without quoting values.
fn doing(sql: &str) -> &str {
    let end = sql
        .char_indices()
        .filter(|(_, c)| *c == ' ')
        .nth(2)
        .map_or(sql.len(), |(i, _)| i);
    &sql[..end]
}

/// One change per folder touched by `delivered`, with the highest modseq reached there.
fn changes_of(delivered: &[Delivered]) -> Vec<FolderChange> {
    let mut changes: Vec<FolderChange> = Vec::with_capacity(delivered.len());
    for d in delivered {
        match changes.iter_mut().find(|c| c.folder == d.folder) {
            Some(c) => c.highest_modseq = c.highest_modseq.max(d.modseq),
            None => changes.push(FolderChange {
                mailbox: d.mailbox,
                folder: d.folder,
                highest_modseq: d.modseq,
            }),
        }
    }
    changes
}

/// Seconds since the Unix epoch; 0 if the clock is before it.
pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Integer conversions between PostgreSQL's BIGINT and the API's unsigned types.
pub(crate) fn u32_of(value: i64, table: &str, column: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| {
        Error::corrupt(
            table,
            format!("{column} holds {value}, outside 0..=u32::MAX"),
        )
    })
}

pub(crate) fn u64_of(value: i64, table: &str, column: &str) -> Result<u64> {
    u64::try_from(value)
        .map_err(|_| Error::corrupt(table, format!("{column} holds the negative value {value}")))
}

pub(crate) fn i64_of(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::invalid(what, format!("{value} is above {}", i64::MAX)))
}

/// SQL LIMIT from a caller's `usize`.
pub(crate) fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl PostgresStore {
    pub(crate) fn staging(&self) -> &BlobDir {
        &self.staging
    }

    pub(crate) fn summarizer(&self) -> Option<&ListingSummarizer> {
        self.summarizer.as_ref()
    }

    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    pub(crate) fn feed(&self) -> &ChangeFeed {
        &self.feed
    }

    pub(crate) fn publish_changes(&self, changes: Vec<FolderChange>) {
        self.publish(changes);
    }
}
