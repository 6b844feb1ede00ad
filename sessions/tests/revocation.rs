//! A deleted session stays deleted: nothing a request still holding it can do brings it
//! back, and a newer session never inherits its id.

use std::sync::Arc;

use sessions::{FakeClock, Lookup, SessionConfig, SessionStore};
use sqlx::sqlite::SqlitePoolOptions;

#[tokio::test]
async fn nothing_resurrects_a_deleted_session() {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    sqlx::migrate!("../migrations").run(&pool).await.unwrap();
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&pool)
        .await
        .unwrap();
    let clock = FakeClock::new(1_767_225_600);
    let store = SessionStore::new(
        pool.clone(),
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
    sqlx::query("INSERT INTO products (id, slug, name, description, price_cents, image, stock) VALUES (1, 'p', 'P', '', 100, '', 5)")
        .execute(&pool)
        .await
        .unwrap();
    let (_, live) = store.create(None, false, &meta).await.unwrap();
    sqlx::query(
        "INSERT INTO cart_items (session_id, product_id, quantity, added_at) VALUES (?, 1, 1, 0)",
    )
    .bind(live.id)
    .execute(&pool)
    .await
    .expect("a live session can hold a cart line");
    let orphan = sqlx::query(
        "INSERT INTO cart_items (session_id, product_id, quantity, added_at) VALUES (?, 1, 1, 0)",
    )
    .bind(session.id)
    .execute(&pool)
    .await;
    assert!(
        orphan.is_err(),
        "the foreign key refuses rows for a deleted session"
    );
    // The next session gets a new id, never the dead one.
    let (_, next) = store.create(None, false, &meta).await.unwrap();
    assert!(next.id.0 > live.id.0 && next.id.0 > session.id.0);
}
