//! A deleted session stays deleted: nothing a request still holding it can do brings it
//! back, and a newer session never inherits its id.

use std::sync::Arc;

use db::on;
use sessions::{FakeClock, Lookup, SessionConfig, SessionStore};

#[tokio::test]
async fn nothing_resurrects_a_deleted_session() {
    let dir = tempfile::tempdir().unwrap();
    let db = db::testing::fresh(&dir.path().join("shop.db")).await;
    let clock = FakeClock::new(1_767_225_600);
    let store = SessionStore::new(
        db.clone(),
        SessionConfig::default(),
        Arc::new(clock.clone()),
    );
    let meta = Default::default();

    let (token, session) = store.create(None, false, &meta).await.unwrap();
    // Logout happens while another request still holds `session`.
    assert!(store.delete(session.id).await.unwrap());
    clock.advance(120);
    assert_eq!(
        store.touch(&session).await.unwrap(),
        None,
        "touch does not re-insert"
    );
    assert!(
        store.rotate(session.id).await.unwrap().is_none(),
        "rotate finds nothing"
    );
    assert!(
        store
            .authenticate(session.id, 1, false)
            .await
            .unwrap()
            .is_none(),
        "no login on a dead row"
    );
    assert_eq!(store.load(&token).await.unwrap(), Lookup::Unknown);
    assert_eq!(store.count().await.unwrap(), 0);
    // Data hanging off the dead id cannot be written either (the product exists, so only
    // the session reference can fail).
    on!(db.writer(), p => sqlx::query("INSERT INTO products (id, slug, name, description, price_cents, image, stock) VALUES (1, 'p', 'P', '', 100, '', 5)")
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap();
    let (_, live) = store.create(None, false, &meta).await.unwrap();
    let add_line = |id: sessions::SessionId| {
        let db = db.clone();
        async move {
            on!(db.writer(), p => {
                sqlx::query(
                "INSERT INTO cart_items (session_id, product_id, quantity, added_at) VALUES ($1, 1, 1, 0)",
            )
            .bind(id)
            .execute(p)
            .await
            .map(|_| ())
            })
        }
    };
    add_line(live.id)
        .await
        .expect("a live session can hold a cart line");
    let orphan = add_line(session.id).await;
    assert!(
        orphan.is_err(),
        "the foreign key refuses rows for a deleted session"
    );
    // The next session gets a new id, never the dead one.
    let (_, next) = store.create(None, false, &meta).await.unwrap();
    assert!(next.id.0 > live.id.0 && next.id.0 > session.id.0);
}

/// Revocation that nothing can undo: the request that ends a session is dropped (its
/// client hung up) while the database is still busy with the write. The write still
/// lands, and then no copy of the session is served, even one read while the write was
/// waiting.
#[tokio::test]
async fn an_ending_whose_request_is_dropped_still_ends_the_session_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let db = db::testing::fresh(&dir.path().join("shop.db")).await;
    let store = SessionStore::new(
        db.clone(),
        SessionConfig::default(),
        Arc::new(FakeClock::new(1_767_225_600)),
    );
    store.enable_cache(true); // as the listener does once it is connected
    let meta = Default::default();
    for ending in ["delete", "rotate", "delete_user_sessions"] {
        let (_, user) = store.create(None, false, &meta).await.unwrap();
        let user_id: i64 = on!(db.writer(), p => sqlx::query_scalar(
            "INSERT INTO users (username, password_hash, created_at, password_changed_at)
             VALUES ($1, 'x', 0, 0) RETURNING id"
        )
        .bind(format!("user-{ending}"))
        .fetch_one(p)
        .await)
        .unwrap();
        let (token, session) = store
            .authenticate(user.id, user_id, false)
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(store.load(&token).await.unwrap(), Lookup::Live(_)));
        assert_eq!(store.cached(), 1, "{ending}: the copy is held");

        // Another transaction holds the session's row, so the write has to wait.
        let blocker = Blocker::hold(&db, session.id).await;
        let write = async {
            match ending {
                "delete" => store.delete(session.id).await.map(|_| ()),
                "rotate" => store.rotate(session.id).await.map(|_| ()),
                _ => store.delete_user_sessions(user_id, None).await.map(|_| ()),
            }
        };
        let dropped = tokio::time::timeout(std::time::Duration::from_millis(150), write).await;
        assert!(
            dropped.is_err(),
            "{ending}: the write waited and its request was dropped"
        );
        // A lookup while the write still waits reads the old row (and may keep a copy).
        assert!(matches!(store.load(&token).await.unwrap(), Lookup::Live(_)));
        blocker.release().await;

        // The write lands on its own, and the old token stops working everywhere (a
        // rotated one is known as replaced: anonymous too, its cookie left alone).
        let gone = if ending == "rotate" {
            Lookup::Replaced
        } else {
            Lookup::Unknown
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            if store.load(&token).await.unwrap() == gone {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{ending}: the old token still works after the write landed"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        for _ in 0..20 {
            assert_eq!(store.load(&token).await.unwrap(), gone, "{ending}");
        }
    }
}

/// Holds a lock that makes a write to one session wait: SQLite's write lock, or the
/// session's row on PostgreSQL.
enum Blocker {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Blocker {
    async fn hold(db: &db::Db, id: sessions::SessionId) -> Blocker {
        match db {
            db::Db::Sqlite { reader, .. } => {
                let mut conn = reader.acquire().await.unwrap();
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                Blocker::Sqlite(conn)
            }
            db::Db::Postgres(pool) => {
                let mut tx = pool.begin().await.unwrap();
                sqlx::query("SELECT id FROM sessions WHERE id = $1 FOR UPDATE")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                Blocker::Postgres(tx)
            }
        }
    }

    async fn release(self) {
        match self {
            Blocker::Sqlite(mut conn) => {
                sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
            }
            Blocker::Postgres(tx) => tx.rollback().await.unwrap(),
        }
    }
}
