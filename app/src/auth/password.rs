//! Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane),
//! always off the async workers (`spawn_blocking`).

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::validate::Password;
use crate::error::AppError;

/// OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
pub const M_COST_KIB: u32 = 19 * 1024;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params =
        Params::new(M_COST_KIB, T_COST, P_COST, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| argon2::password_hash::Error::Crypto)?;
    let salt = SaltString::encode_b64(&salt)?;
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// A hash of a random password nobody knows, so that signing in as an unknown user costs
/// the same argon2 work as signing in with a wrong password (no user enumeration by timing).
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 24];
        let _ = getrandom::fill(&mut secret);
        let text: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        hash_blocking(&text).expect("hashing a random password cannot fail")
    })
}

/// Hashes running at once. Each takes a core for tens of milliseconds and 19 MiB: a flood
/// of sign-ins queues here (on the async side, costing nothing) instead of taking every
/// core from the requests around it. Half the cores, at least one.
fn hashing_slots() -> &'static std::sync::Arc<tokio::sync::Semaphore> {
    static SLOTS: OnceLock<std::sync::Arc<tokio::sync::Semaphore>> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::sync::Arc::new(tokio::sync::Semaphore::new((cores / 2).max(1)))
    })
}

/// Runs argon2 work on the blocking pool, at most `hashing_slots` at a time. The slot
/// travels with the blocking task, so a request dropped mid-hash (client gone) cannot
/// free it while the hash still runs.
async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    let slot = hashing_slots().clone().acquire_owned().await.ok();
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
}

/// Computes the dummy hash now (at start-up) rather than on the first failed login.
pub fn warm_up() {
    let _ = dummy_hash();
}

/// Hashes a policy-conforming password (PHC string with algorithm, parameters and salt).
pub async fn hash_password(password: Password) -> Result<String, AppError> {
    off_the_workers(move || hash_blocking(password.expose()))
        .await
        .map_err(|e| AppError::internal("password hashing task failed", e))?
        .map_err(|e| AppError::internal("password hashing failed", e.to_string()))
}

/// Whether a stored hash was made with other settings than today's (another algorithm,
/// version or cost): it is re-hashed at the next successful sign-in.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let current = hasher();
    let params = match Params::try_from(&parsed) {
        Ok(p) => p,
        Err(_) => return true,
    };
    parsed.algorithm != Algorithm::Argon2id.ident()
        || parsed.version != Some(Version::V0x13 as u32)
        || params.m_cost() != current.params().m_cost()
        || params.t_cost() != current.params().t_cost()
        || params.p_cost() != current.params().p_cost()
}

/// Hashes a password that was just verified against an outdated hash (it may predate
/// today's policy, so it is not re-checked against it).
pub async fn rehash(password: String) -> Result<String, AppError> {
    off_the_workers(move || hash_blocking(&password))
        .await
        .map_err(|e| AppError::internal("password hashing task failed", e))?
        .map_err(|e| AppError::internal("password hashing failed", e.to_string()))
}

/// Checks `password` against `stored` (or, when the user does not exist, against the
/// dummy hash, doing the same work and answering `false`).
pub async fn verify_password(password: String, stored: Option<String>) -> Result<bool, AppError> {
    off_the_workers(move || {
        let (hash, counts) = hash_to_check(stored.as_deref());
        hasher().verify_password(password.as_bytes(), &hash).is_ok() && counts
    })
    .await
    .map_err(|e| AppError::internal("password verification task failed", e))
}

/// The hash argon2 runs against, and whether a match counts: the stored hash, or the dummy
/// hash (never a match) for an unknown user or an unreadable stored hash, so that every
/// sign-in costs one full verification.
fn hash_to_check(stored: Option<&str>) -> (PasswordHash<'_>, bool) {
    let dummy = || PasswordHash::new(dummy_hash()).expect("the dummy hash is a PHC string");
    match stored.map(PasswordHash::new) {
        Some(Ok(hash)) => (hash, true),
        Some(Err(e)) => {
            tracing::error!(error = %e, "stored password hash is unreadable");
            (dummy(), false)
        }
        None => (dummy(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_owasp_parameters() {
        let pw = Password::parse("correct horse battery staple".into()).unwrap();
        let phc = hash_password(pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains("correct horse"));
        assert!(
            verify_password("correct horse battery staple".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("correct horse battery stapl".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        // Same password, different salt.
        let again = hash_password(Password::parse("correct horse battery staple".into()).unwrap())
            .await
            .unwrap();
        assert_ne!(phc, again);
    }

    #[tokio::test]
    async fn hashes_with_older_settings_are_marked_for_rehashing() {
        let today = rehash("an old but fine password".into()).await.unwrap();
        assert!(!needs_rehash(&today));
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw", &SaltString::encode_b64(&[7u8; 16]).unwrap())
        .unwrap()
        .to_string();
        assert!(needs_rehash(&old));
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(M_COST_KIB, T_COST, P_COST, None).unwrap(),
        )
        .hash_password(b"pw", &SaltString::encode_b64(&[7u8; 16]).unwrap())
        .unwrap()
        .to_string();
        assert!(needs_rehash(&argon2i));
        assert!(needs_rehash("garbage"));
        // Older hashes still verify.
        assert!(verify_password("pw".into(), Some(old)).await.unwrap());
    }

    /// An unknown user costs what a wrong password costs: argon2 runs against the dummy
    /// hash, made with today's algorithm and costs (user enumeration by timing finds
    /// nothing), and a match against it never counts.
    #[test]
    fn an_unknown_user_costs_a_full_verification_against_the_dummy_hash() {
        let real = hash_blocking("the real password").unwrap();
        let (hash, counts) = hash_to_check(Some(&real));
        assert_eq!(hash.to_string(), real);
        assert!(counts);
        let cost = |h: &PasswordHash| {
            let p = Params::try_from(h).unwrap();
            (
                h.algorithm.to_string(),
                h.version,
                p.m_cost(),
                p.t_cost(),
                p.p_cost(),
            )
        };
        for stored in [None, Some("not a phc string")] {
            let (hash, counts) = hash_to_check(stored);
            assert_eq!(hash.to_string(), dummy_hash(), "{stored:?}");
            assert!(!counts, "{stored:?}: a match against the dummy hash counts");
            assert_eq!(
                cost(&hash),
                cost(&PasswordHash::new(&real).unwrap()),
                "{stored:?}"
            );
        }
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        assert!(!verify_password("anything at all, really".into(), None)
            .await
            .unwrap());
        assert!(
            !verify_password("x".into(), Some("not a phc string".into()))
                .await
                .unwrap()
        );
    }
}
