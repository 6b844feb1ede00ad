//! The database the shop runs on: SQLite (the embedded default: one file, one process)
//! or PostgreSQL (a shared server: several processes, one or more machines).
//!
//! One type, [`Db`], is all the rest of the code holds. A store method takes the pool it
//! needs ([`Db::reader`] or [`Db::writer`]) and runs its statement through [`on!`], which
//! inlines the same code once per backend: each arm is compiled against that backend's
//! own sqlx types (no `sqlx::Any`, whose types are too narrow), and both arms share the
//! query text. Where the SQL is not portable, [`Db::pick`] chooses the text per backend
//! (`MIN`/`MAX` of several values vs `LEAST`/`GREATEST`, row locks, ...).
//!
//! Placeholders are always `$1`, `$2`, ...: PostgreSQL's syntax, which sqlx-sqlite also
//! binds by number.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, PgPool, SqlitePool};

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The shop's database. Cheap to clone (pools are shared handles).
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite runs one write transaction at a time. With every connection free to write,
    /// concurrent writers collide on the lock and the losers sleep in SQLite's busy
    /// handler (1, 2, 5, 10… ms) before trying again. With one writer connection, writes
    /// wait their turn in the pool's queue instead, in order, and wake the moment it is
    /// free. Reads (WAL) never wait for the writer.
    Sqlite {
        /// For reads.
        reader: SqlitePool,
        /// Every write of the running shop: one connection.
        writer: SqlitePool,
    },
    /// PostgreSQL locks rows, not the database: one pool serves reads and writes, and
    /// statements that must not interleave take row locks (see the order store).
    Postgres(PgPool),
}

/// One backend's pool, borrowed from a [`Db`]; see [`on!`].
#[derive(Debug, Clone, Copy)]
pub enum Pool<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

/// Runs `$body` with `$p` bound to the backend's pool (`&SqlitePool` or `&PgPool`).
///
/// Not a closure: `on!` is a `match` with one arm per backend, and `$body` is pasted
/// (inlined) into each arm, so it is compiled once per backend and `sqlx::query(...)`,
/// `.bind(...)`, `fetch_*(p)` and `p.begin()` all infer that backend's types. Being
/// inlined, a `return`, `?` or `.await` in the body acts on the enclosing function, as
/// any code written in its place would:
///
/// ```ignore
/// let n: i64 = db::on!(db.reader(), p => {
///     sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await
/// })?;
/// ```
#[macro_export]
macro_rules! on {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}

/// Implements a trait for both backends' transactions from one text:
///
/// ```ignore
/// trait CartTx { fn count(&mut self, user: i64) -> impl Future<Output = sqlx::Result<i64>> + Send; }
/// db::impl_for_both!(CartTx {
///     async fn count(&mut self, user: i64) -> sqlx::Result<i64> {
///         sqlx::query_scalar("SELECT COUNT(*) FROM cart_items WHERE user_id = $1")
///             .bind(user)
///             .fetch_one(&mut **self)
///             .await
///     }
/// });
/// ```
///
/// As with [`on!`], the text is pasted once per backend (for `sqlx::Transaction<'_,
/// Sqlite>` and `sqlx::Transaction<'_, Postgres>`) and compiled against its types: a
/// transaction's steps can be named methods instead of one long body inside `on!`.
#[macro_export]
macro_rules! impl_for_both {
    ($trait:path { $($body:tt)* }) => {
        impl $trait for sqlx::Transaction<'_, sqlx::Sqlite> {
            $($body)*
        }

        impl $trait for sqlx::Transaction<'_, sqlx::Postgres> {
            $($body)*
        }
    };
}

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid DATABASE_URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("cannot open database {url:?}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// How the PostgreSQL pool is set up (SQLite needs no choices: see [`Db::Sqlite`]).
#[derive(Debug, Clone)]
pub struct PgSettings {
    /// Connections per process. Each costs a PostgreSQL backend process (~10 MB), and a
    /// server's `max_connections` (100 by default) is shared by every shop process.
    pub max_connections: u32,
}

impl Default for PgSettings {
    fn default() -> Self {
        PgSettings {
            max_connections: 16,
        }
    }
}

impl Db {
    /// Opens the database at `url` (`sqlite://…` or `postgres://…`; a SQLite file is
    /// created if missing) and brings its schema up to date with the backend's embedded
    /// migrations (`migrations/sqlite`, `migrations/postgres`).
    pub async fn connect(url: &str, pg: &PgSettings) -> Result<Db, DbError> {
        match backend_of(url)? {
            Backend::Sqlite => connect_sqlite(url).await,
            Backend::Postgres => connect_postgres(url, pg).await,
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// The pool for reads.
    pub fn reader(&self) -> Pool<'_> {
        match self {
            Db::Sqlite { reader, .. } => Pool::Sqlite(reader),
            Db::Postgres(pool) => Pool::Postgres(pool),
        }
    }

    /// The pool for writes (and for reads that must see the latest write, such as a
    /// check inside a transaction).
    pub fn writer(&self) -> Pool<'_> {
        match self {
            Db::Sqlite { writer, .. } => Pool::Sqlite(writer),
            Db::Postgres(pool) => Pool::Postgres(pool),
        }
    }

    /// `sqlite` or `postgres`, whichever fits this backend: for the few statements whose
    /// text cannot be shared.
    pub fn pick<T>(&self, sqlite: T, postgres: T) -> T {
        match self.backend() {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }

    /// Asks the database something trivial, on the reader, within `limit`: whether it
    /// answers at all (for readiness, and before serving a page during an outage).
    pub async fn ping(&self, limit: Duration) -> Result<(), sqlx::Error> {
        let asked =
            async { on!(self.reader(), p => sqlx::query("SELECT 1").execute(p).await.map(|_| ())) };
        tokio::time::timeout(limit, asked)
            .await
            .unwrap_or(Err(sqlx::Error::PoolTimedOut))
    }

    /// Whether every migration this build embeds is applied (another process may have
    /// rolled the schema back, or not yet forward).
    pub async fn migrations_applied(&self) -> Result<bool, sqlx::Error> {
        let expected = match self.backend() {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("../migrations/postgres"),
        };
        let want: Vec<i64> = expected.iter().map(|m| m.version).collect();
        let have: Vec<i64> = on!(self.reader(), p => {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(p)
                .await
        })?;
        Ok(want.iter().all(|v| have.contains(v)))
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        match self {
            Db::Sqlite { reader, writer } => {
                reader.close().await;
                writer.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// Whether `e` means the database is out of reach for now (down, restarting, unreachable,
/// out of connections, or a SQLite file that is busy or on a full disk), as opposed to a
/// statement that is wrong: such a request should be answered "try again shortly"
/// (503 with `Retry-After`), not as a fault of ours.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                // 08: connection exception; 57P01-03: shutting down or starting up;
                // 53: insufficient resources (out of connections, disk full, memory).
                code.starts_with("08") || code.starts_with("57P") || code.starts_with("53")
            } else {
                // SQLite's primary result code is the low byte of the extended one:
                // 5 busy (the lock was not free within the busy timeout), 10 I/O error,
                // 13 full (the disk, or the file's page limit).
                matches!(code.parse::<i32>().map(|c| c & 0xff), Ok(5 | 10 | 13))
            }
        }
        _ => false,
    }
}

/// The backend a URL names.
pub fn backend_of(url: &str) -> Result<Backend, DbError> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Backend::Sqlite),
        "postgres" | "postgresql" => Ok(Backend::Postgres),
        _ => Err(DbError::Url {
            url: url.to_string(),
            reason: "must start with sqlite: or postgres:".into(),
        }),
    }
}

async fn connect_sqlite(url: &str) -> Result<Db, DbError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| DbError::Url {
            url: url.to_string(),
            reason: e.to_string(),
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
            .after_release(|conn, _| Box::pin(release_only_if_idle(conn)))
            .connect_with(options.clone())
    };
    let opened = |source| DbError::Open {
        url: url.to_string(),
        source,
    };
    let writer = open(1).await.map_err(opened)?;
    sqlx::migrate!("../migrations/sqlite").run(&writer).await?;
    let reader = if in_memory {
        writer.clone()
    } else {
        open(8).await.map_err(opened)?
    };
    Ok(Db::Sqlite { reader, writer })
}

/// Whether a SQLite connection handed back to the pool may be lent again: only if no
/// transaction is open on it. When a statement fails because the disk is full (or on an
/// I/O error), SQLite rolls the transaction back by itself; sqlx's ROLLBACK then fails,
/// and sqlx goes on believing a transaction is open. Its next "transaction" would be a
/// savepoint inside one that is never committed: writes answered as done, seen by this
/// connection only, and gone when it closes. Such a connection is closed instead (which
/// also rolls back whatever is open on it) and the pool opens a fresh one.
async fn release_only_if_idle(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // A rollback queued by a dropped transaction may not have run yet: let it.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!(
            "a SQLite connection came back with a transaction still open after a failed \
             statement (a full disk?): closed, and a fresh one opened"
        );
        return Ok(false);
    }
    Ok(true)
}

/// Parses a PostgreSQL URL, including libpq's socket form with an empty host
/// (`postgres://user@/db?host=/run/postgresql`), which sqlx's parser refuses: the
/// `host` parameter names the socket directory and wins over the placeholder put in.
pub fn pg_options(url: &str) -> Result<PgConnectOptions, DbError> {
    let fixed;
    let mut parse = url;
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        let host_empty = authority.is_empty() || authority.ends_with('@');
        if host_empty && rest.contains("host=") {
            fixed = format!("{scheme}://{authority}localhost{}", &rest[authority_end..]);
            parse = &fixed;
        }
    }
    PgConnectOptions::from_str(parse).map_err(|e| DbError::Url {
        url: redact(url),
        reason: e.to_string(),
    })
}

async fn connect_postgres(url: &str, settings: &PgSettings) -> Result<Db, DbError> {
    let options = pg_options(url)?
        .application_name("oxide-oak")
        // Prepared statements are kept per connection; the shop has a few dozen distinct
        // statements, so all of them stay prepared.
        .statement_cache_capacity(256)
        .options([
            // A statement stuck behind a lock fails instead of holding a request (and a
            // connection) for ever; a transaction left open by a cancelled request is
            // rolled back by the server even if the client side never gets to it.
            ("statement_timeout", "15s"),
            ("lock_timeout", "5s"),
            ("idle_in_transaction_session_timeout", "30s"),
        ]);
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections.max(1))
        .min_connections(1)
        // A request waits at most this long for a free connection (or for a server that
        // is down to come back), then gets a 503 instead of hanging.
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(600))
        .max_lifetime(Duration::from_secs(1800))
        // No ping before each use: a round trip per query on a healthy server. A
        // connection the server dropped fails its next query once and is then discarded.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|source| DbError::Open {
            url: redact(url),
            source,
        })?;
    // Takes an advisory lock: processes starting together migrate one at a time.
    sqlx::migrate!("../migrations/postgres").run(&pool).await?;
    Ok(Db::Postgres(pool))
}

/// `url` without its password, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// `url` (a PostgreSQL URL) with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Databases for tests, on the backend the test run asks for.
pub mod testing {
    use super::*;

    /// Set to a PostgreSQL server URL (any database on it), every test gets a new
    /// database on that server instead of a SQLite file. `scripts/test` sets it for its
    /// PostgreSQL round.
    pub const ENV: &str = "SHOP_TEST_POSTGRES_URL";

    /// The backend this test run uses.
    pub fn backend() -> Backend {
        match std::env::var(ENV) {
            Ok(url) if !url.is_empty() => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// The URL of a new, empty database for one test: a fresh database on the server
    /// named by [`ENV`], or else the SQLite file `sqlite_file` (created on connect).
    pub async fn fresh_url(sqlite_file: &std::path::Path) -> String {
        match std::env::var(ENV) {
            Ok(server) if !server.is_empty() => {
                let mut bytes = [0u8; 8];
                getrandom::fill(&mut bytes).expect("random database name");
                let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                let name = format!("test_{name}");
                let mut admin = pg_options(&server)
                    .expect("SHOP_TEST_POSTGRES_URL is a PostgreSQL URL")
                    .log_statements(tracing::log::LevelFilter::Debug)
                    .connect()
                    .await
                    .expect("connect to the test PostgreSQL server");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create a test database");
                let _ = admin.close().await;
                with_database(&server, &name)
            }
            _ => format!("sqlite://{}", sqlite_file.display()),
        }
    }

    /// A new, migrated database for one test (see [`fresh_url`]).
    pub async fn fresh(sqlite_file: &std::path::Path) -> Db {
        let url = fresh_url(sqlite_file).await;
        Db::connect(&url, &PgSettings::default())
            .await
            .expect("open the test database")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend() {
        assert_eq!(backend_of("sqlite://shop.db").unwrap(), Backend::Sqlite);
        assert_eq!(backend_of("sqlite::memory:").unwrap(), Backend::Sqlite);
        assert_eq!(
            backend_of("postgres://u@/shop?host=/tmp/pg").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            backend_of("postgresql://u:p@db:5432/shop").unwrap(),
            Backend::Postgres
        );
        assert!(backend_of("mysql://x").is_err());
        assert!(backend_of("shop.db").is_err());
    }

    #[test]
    fn socket_urls_with_an_empty_host_parse() {
        for url in [
            "postgres://postgres@/shop?host=/tmp/pg",
            "postgres:///shop?host=/tmp/pg&user=postgres",
            "postgresql://u:p@db.example:5433/shop",
        ] {
            assert!(pg_options(url).is_ok(), "{url}");
        }
        let o = pg_options("postgres://postgres@/shop?host=/tmp/pg").unwrap();
        assert_eq!(o.get_database(), Some("shop"));
        assert_eq!(o.get_username(), "postgres");
        assert_eq!(o.get_socket(), Some(&std::path::PathBuf::from("/tmp/pg")));
        assert!(pg_options("postgres://[bad").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://shop:s3cret@db:5432/shop"),
            "postgres://shop:***@db:5432/shop"
        );
        assert_eq!(
            redact("postgres://postgres@/shop?host=/tmp/pg"),
            "postgres://postgres@/shop?host=/tmp/pg"
        );
        assert_eq!(redact("sqlite://shop.db"), "sqlite://shop.db");
    }

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@/postgres?host=/tmp/pg", "t1"),
            "postgres://postgres@/t1?host=/tmp/pg"
        );
        assert_eq!(
            with_database("postgres://u:p@db:5432/shop", "t1"),
            "postgres://u:p@db:5432/t1"
        );
        assert_eq!(with_database("postgres://db", "t1"), "postgres://db/t1");
    }
}
