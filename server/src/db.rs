//! The SQLite pool: WAL journal, foreign keys, busy timeout, embedded migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid DATABASE_URL {url:?}: {source}")]
    Url { url: String, source: sqlx::Error },
    #[error("cannot open database {url:?}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The database: a pool of readers and one writer.
///
/// SQLite runs one write transaction at a time. With every connection free to write,
/// concurrent writers collide on the lock and the losers sleep in SQLite's busy handler
/// (1, 2, 5, 10… ms) before trying again. With one writer connection, writes wait their
/// turn in the pool's queue instead, in order, and wake the moment it is free. Reads (WAL)
/// never wait for the writer.
#[derive(Debug, Clone)]
pub struct Database {
    /// For reads, and for writes only outside the request path (tests, tools).
    pub reader: SqlitePool,
    /// Every write of the running shop.
    pub writer: SqlitePool,
}

/// Opens (creating if missing) the database at `url` and brings its schema up to date.
pub async fn connect_and_migrate(url: &str) -> Result<Database, DbError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|source| DbError::Url {
            url: url.to_string(),
            source,
        })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode; only an OS crash or
        // power loss can drop the last transactions.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    // An in-memory database exists once per connection: keep exactly one.
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let open = |connections: u32| {
        SqlitePoolOptions::new()
            // sqlx pings every connection before lending it by default: a round trip to
            // the connection's worker thread per query, pointless for a local file.
            .test_before_acquire(false)
            .max_connections(connections)
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout((!in_memory).then_some(Duration::from_secs(600)))
            .max_lifetime((!in_memory).then_some(Duration::from_secs(3600)))
            .connect_with(options.clone())
    };
    let opened = |source| DbError::Open {
        url: url.to_string(),
        source,
    };
    let writer = open(1).await.map_err(opened)?;
    sqlx::migrate!("../migrations").run(&writer).await?;
    // An in-memory database exists once per connection: its one connection does all.
    let reader = if in_memory {
        writer.clone()
    } else {
        open(8).await.map_err(opened)?
    };
    Ok(Database { reader, writer })
}
