//! Parse, don't validate: once a value has one of these types, it is acceptable.
//! Used by the server (authoritative) and usable by the client for hints.

/// Allowed username length, in characters.
pub const USERNAME_LEN: std::ops::RangeInclusive<usize> = 3..=32;
/// Allowed password length, in characters (OWASP/NIST: at least 15 without MFA, a
/// generous maximum, no composition rules, never truncated).
pub const PASSWORD_LEN: std::ops::RangeInclusive<usize> = 15..=128;

/// Why a sign-in or registration form was refused. Each has a fixed message and a short
/// code; a plain-form (no JavaScript) round trip carries the code in the `error` query
/// parameter, so a crafted link can only ever show one of these messages.
///
/// `Internal` carries its cause for the server's log (see `crate::error::Cause`); it is
/// logged where the form's answer is made (`forms::finish`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    Credentials,
    UsernameLength,
    UsernameChars,
    UsernameStart,
    UsernameTaken,
    PasswordShort,
    PasswordLong,
    PasswordMismatch,
    CurrentPassword,
    SamePassword,
    EmailInvalid,
    /// A reset link that is unknown, used or expired, or a reset form without one.
    ResetLink,
    /// Throttled: wait this many seconds.
    TooMany(u64),
    /// The database is out of reach for now (see `AppError::Unavailable`).
    Unavailable(crate::error::Cause),
    Internal(crate::error::Cause),
}

impl FormError {
    const ALL: [FormError; 15] = [
        FormError::Credentials,
        FormError::UsernameLength,
        FormError::UsernameChars,
        FormError::UsernameStart,
        FormError::UsernameTaken,
        FormError::PasswordShort,
        FormError::PasswordLong,
        FormError::PasswordMismatch,
        FormError::CurrentPassword,
        FormError::SamePassword,
        FormError::EmailInvalid,
        FormError::ResetLink,
        FormError::TooMany(60),
        FormError::Unavailable(crate::error::Cause::none()),
        FormError::Internal(crate::error::Cause::none()),
    ];

    pub fn code(&self) -> &'static str {
        match self {
            FormError::Credentials => "credentials",
            FormError::UsernameLength => "username_length",
            FormError::UsernameChars => "username_chars",
            FormError::UsernameStart => "username_start",
            FormError::UsernameTaken => "username_taken",
            FormError::PasswordShort => "password_short",
            FormError::PasswordLong => "password_long",
            FormError::PasswordMismatch => "password_mismatch",
            FormError::CurrentPassword => "current_password",
            FormError::SamePassword => "same_password",
            FormError::EmailInvalid => "email_invalid",
            FormError::ResetLink => "reset_link",
            FormError::TooMany(_) => "too_many",
            FormError::Unavailable(_) => "unavailable",
            FormError::Internal(_) => "internal",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }

    /// Compiles only while every variant is in [`FormError::ALL`]'s list: a new one
    /// stops the build here until it is added there too.
    #[allow(dead_code)]
    const fn listed(e: &FormError) {
        match e {
            FormError::Credentials
            | FormError::UsernameLength
            | FormError::UsernameChars
            | FormError::UsernameStart
            | FormError::UsernameTaken
            | FormError::PasswordShort
            | FormError::PasswordLong
            | FormError::PasswordMismatch
            | FormError::CurrentPassword
            | FormError::SamePassword
            | FormError::EmailInvalid
            | FormError::ResetLink
            | FormError::TooMany(_)
            | FormError::Unavailable(_)
            | FormError::Internal(_) => {}
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            // One message for unknown user and wrong password: no user enumeration.
            FormError::Credentials => "Wrong username or password.",
            FormError::UsernameLength => "Usernames are 3 to 32 characters long.",
            FormError::UsernameChars => "Usernames may use letters, digits, '_', '.' and '-' only.",
            FormError::UsernameStart => "Usernames start with a letter or a digit.",
            FormError::UsernameTaken => "That username is taken. Please choose another.",
            FormError::PasswordShort => {
                "Passwords need at least 15 characters. A few random words work well."
            }
            FormError::PasswordLong => "Passwords can have at most 128 characters.",
            FormError::PasswordMismatch => "The two passwords do not match.",
            FormError::CurrentPassword => "Your current password is not right.",
            FormError::SamePassword => "The new password must differ from the current one.",
            FormError::EmailInvalid => "That does not look like a mail address (name@example.com).",
            FormError::ResetLink => {
                "This link has expired or was already used. Ask for a new one below."
            }
            FormError::TooMany(_) => "Too many attempts. Please wait a little and try again.",
            FormError::Unavailable(_) => {
                "The shop is briefly unavailable. Please try again in a few seconds."
            }
            FormError::Internal(_) => "Something went wrong on our side. Please try again.",
        }
    }
}

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// A syntactically valid username: 3–32 characters of `a-z A-Z 0-9 _ . -`, starting with
/// a letter or digit. Compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, FormError> {
        if !USERNAME_LEN.contains(&raw.chars().count()) {
            return Err(FormError::UsernameLength);
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(FormError::UsernameChars);
        }
        if !raw.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(FormError::UsernameStart);
        }
        Ok(Username(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the policy. Its `Debug` is redacted; it is not `Serialize`.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: String) -> Result<Self, FormError> {
        let n = raw.chars().count();
        if n < *PASSWORD_LEN.start() {
            return Err(FormError::PasswordShort);
        }
        if n > *PASSWORD_LEN.end() {
            return Err(FormError::PasswordLong);
        }
        Ok(Password(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Longest mail address (RFC 5321's path limit, less the angle brackets).
pub const EMAIL_MAX: usize = 254;

/// A mail address of the plain form `local@domain`, in lower case (addresses are
/// compared without regard to case). ASCII only: a local part of letters, digits and
/// `.!#$%&'*+/=?^_`{|}~-`, and a domain of at least two dot-separated labels of
/// letters, digits and inner hyphens. Stricter than RFC 5322 (no quoted or bracketed
/// forms), as shops are: what passes is an address every mail server takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FormError> {
        let text = raw.trim().to_ascii_lowercase();
        let bad = || FormError::EmailInvalid;
        if text.len() > EMAIL_MAX || !text.is_ascii() {
            return Err(bad());
        }
        let (local, domain) = text.split_once('@').ok_or_else(bad)?;
        let local_ok = (1..=64).contains(&local.len())
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._!#$%&'*+/=?^`{|}~-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                (1..=63).contains(&l.len())
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Email(text))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where to send someone after signing in: `next` if it is a path on this site, else `/`.
/// Refuses absolute URLs, scheme-relative `//host`, backslash tricks (`/\host`), control
/// characters and the API itself, so a crafted link cannot bounce a user off-site.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(next) = next.map(str::trim) else {
        return "/".into();
    };
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && !next.starts_with("/api/")
        && next.len() <= 512;
    if ok {
        next.to_string()
    } else {
        "/".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["alice", "Bob", "x_y.z-1", "abc", &"a".repeat(32)] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ab",
            &"a".repeat(33),
            "al ice",
            "_alice",
            "alice'--",
            "ålice",
            "a\u{0}b",
            "<script>",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mail_addresses() {
        assert_eq!(
            Email::parse(" Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        for ok in [
            "a@b.co",
            "first.last+shop@mail.example.org",
            "o'neil@x-y.example",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "a@@example.com",
            "a@b@example.com",
            "al ice@example.com",
            ".alice@example.com",
            "al..ice@example.com",
            "alice@-example.com",
            "alice@example..com",
            "\"q\"@example.com",
            "alice@[127.0.0.1]",
            "ålice@example.com",
            "alice@example.com\r\nBcc: x@evil.test",
            &format!("{}@example.com", "a".repeat(65)),
            &format!("a@{}.com", "b".repeat(250)),
        ] {
            assert_eq!(Email::parse(bad), Err(FormError::EmailInvalid), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_counted_in_characters_and_never_truncated() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("x".repeat(14)).is_err());
        assert!(Password::parse("x".repeat(15)).is_ok());
        assert!(Password::parse("ü".repeat(15)).is_ok()); // 30 bytes, 15 characters
        assert!(Password::parse("x".repeat(128)).is_ok());
        assert_eq!(
            Password::parse("x".repeat(129)).unwrap_err(),
            FormError::PasswordLong
        );
        assert!(Password::parse("correct horse battery staple".into()).is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("x".repeat(20)).unwrap()),
            "Password(<redacted>)"
        );
    }

    #[test]
    fn form_error_codes_round_trip() {
        for e in FormError::ALL {
            assert_eq!(FormError::from_code(e.code()), Some(e.clone()));
        }
        assert_eq!(FormError::from_code("<b>you have been hacked</b>"), None);
    }

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/billing")), "/billing");
        assert_eq!(safe_next(Some("/products/mug?x=1")), "/products/mug?x=1");
        assert_eq!(safe_next(None), "/");
        // Percent-encoded bytes stay inside a local path: harmless.
        assert_eq!(
            safe_next(Some("/%0d%0aSet-Cookie:x")),
            "/%0d%0aSet-Cookie:x"
        );
        for bad in [
            "https://evil.test/",
            "//evil.test",
            "/\\evil.test",
            "\\\\evil.test",
            "javascript:alert(1)",
            "evil.test",
            "/\r\nLocation: https://evil.test",
            "/api/logout",
            "",
            " //evil.test",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
    }
}
