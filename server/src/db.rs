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

/// Opens (creating if missing) the database at `url` and brings its schema up to date.
pub async fn connect_and_migrate(url: &str) -> Result<SqlitePool, DbError> {
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
    let pool = SqlitePoolOptions::new()
        // sqlx pings every connection before lending it by default: a round trip to the
        // connection's worker thread per query, pointless for a local file.
        .test_before_acquire(false)
        .max_connections(if in_memory { 1 } else { 8 })
        .min_connections(if in_memory { 1 } else { 0 })
        .idle_timeout(if in_memory {
            None
        } else {
            Some(Duration::from_secs(600))
        })
        .max_lifetime(if in_memory {
            None
        } else {
            Some(Duration::from_secs(3600))
        })
        .connect_with(options)
        .await
        .map_err(|source| DbError::Open {
            url: url.to_string(),
            source,
        })?;
    sqlx::migrate!("../migrations").run(&pool).await?;
    Ok(pool)
}
