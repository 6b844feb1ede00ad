//! The background collector: deletes expired rows, survives errors, keeps running.

use std::sync::Arc;
use std::time::Duration;

use db::on;
use sessions::{spawn_gc, FakeClock, SessionConfig, SessionStore};

const T0: i64 = 1_767_225_600;

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn the_collector_deletes_expired_sessions_and_survives_database_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = db::testing::fresh(&dir.path().join("shop.db")).await;
    let exec = |sql: &'static str| {
        let db = db.clone();
        async move {
            on!(db.writer(), p => sqlx::query(sql)
                .execute(p)
                .await
                .map(|_| ()))
            .unwrap()
        }
    };
    let clock = FakeClock::new(T0);
    let config = SessionConfig {
        secure: false,
        ..Default::default()
    };
    let store = SessionStore::new(db.clone(), config, Arc::new(clock.clone()));
    let meta = Default::default();

    store.create(None, false, &meta).await.unwrap();
    store.create(None, false, &meta).await.unwrap();
    let (_, keeper) = store.create(None, true, &meta).await.unwrap();
    clock.advance(31 * 60);

    let gc = spawn_gc(store.clone(), Duration::from_millis(20));
    eventually("the two expired guests are collected", async || {
        store.count().await.unwrap() == 1
    })
    .await;
    let left: i64 = on!(db.reader(), p => sqlx::query_scalar(
        "SELECT id FROM sessions"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(left, keeper.id.0);

    // Break the table under the collector: it must log and carry on.
    assert_eq!(
        gc.failed_ticks(),
        0,
        "no tick failed while the table was there"
    );
    exec("ALTER TABLE sessions RENAME TO sessions_away").await;
    let ticks = gc.ticks();
    eventually("a tick meets the missing table", async || {
        gc.failed_ticks() > 0
    })
    .await;
    eventually("the collector ticks on after the error", async || {
        gc.ticks() > ticks + 1
    })
    .await;
    assert!(!gc.is_finished(), "the collector died on a database error");
    exec("ALTER TABLE sessions_away RENAME TO sessions").await;

    store.create(None, false, &meta).await.unwrap();
    clock.advance(31 * 60);
    eventually("the collector works again after the error", async || {
        store.count().await.unwrap() == 1
    })
    .await;
    gc.abort();
}
