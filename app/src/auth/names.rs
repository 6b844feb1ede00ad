//! Usernames by user id (ssr only), so pages for a signed-in user do not ask the
//! database for the name on every request.

use db::{on, Db};

/// The display name of a user, from the database.
pub async fn username_of(db: &Db, user_id: i64) -> Result<Option<String>, sqlx::Error> {
    on!(db.reader(), p => {
        sqlx::query_scalar("SELECT username FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(p)
            .await
    })
}

/// Names never change (there is no rename), and a deleted user's sessions go with it, so
/// an entry cannot go stale. Bounded: emptied when full.
#[derive(Debug, Default)]
pub struct NameCache(std::sync::RwLock<std::collections::HashMap<i64, String>>);

const NAME_CACHE_MAX: usize = 10_000;

impl NameCache {
    /// The name of `user_id`, from the cache or else from `db` (and then kept).
    pub async fn get(&self, db: &Db, user_id: i64) -> Result<Option<String>, sqlx::Error> {
        if let Some(name) = self
            .0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&user_id)
        {
            return Ok(Some(name.clone()));
        }
        let name = username_of(db, user_id).await?;
        if let Some(name) = &name {
            let mut map = self.0.write().unwrap_or_else(|e| e.into_inner());
            if map.len() >= NAME_CACHE_MAX {
                map.clear();
            }
            map.insert(user_id, name.clone());
        }
        Ok(name)
    }
}
