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
    on!(db.writer(), |p| sqlx::query("INSERT INTO products (id, slug, name, description, price_cents, image, stock) VALUES (1, 'p', 'P', '', 100, '', 5)")
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap();
    let (_, live) = store.create(None, false, &meta).await.unwrap();
    let add_line = |id: sessions::SessionId| {
        let db = db.clone();
        async move {
            on!(db.writer(), |p| {
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
