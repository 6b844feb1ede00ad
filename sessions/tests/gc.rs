//! The background collector: deletes expired rows, survives errors, keeps running.

use std::sync::Arc;
use std::time::Duration;

use sessions::{spawn_gc, FakeClock, SessionConfig, SessionStore};
use sqlx::sqlite::SqlitePoolOptions;

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
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    sqlx::migrate!("../migrations").run(&pool).await.unwrap();
    let clock = FakeClock::new(T0);
    let config = SessionConfig {
        secure: false,
        ..Default::default()
    };
    let store = SessionStore::new(pool.clone(), config, Arc::new(clock.clone()));
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
    let left: i64 = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, keeper.id.0);

    // Break the table under the collector: it must log and carry on.
    sqlx::query("ALTER TABLE sessions RENAME TO sessions_away")
        .execute(&pool)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!gc.is_finished(), "the collector died on a database error");
    sqlx::query("ALTER TABLE sessions_away RENAME TO sessions")
        .execute(&pool)
        .await
        .unwrap();

    store.create(None, false, &meta).await.unwrap();
    clock.advance(31 * 60);
    eventually("the collector works again after the error", async || {
        store.count().await.unwrap() == 1
    })
    .await;
    gc.abort();
}
