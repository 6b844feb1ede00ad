//! Where mail goes: an SMTP server (`MAIL_URL`) or `.eml` files in a directory.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use url::{Host, Url};

/// The mail settings (server/src/config.rs reads them).
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `MAIL_URL`: `smtps://user:pass@host[:465]`, `smtp://host:587?tls=required`, or
    /// `smtp://127.0.0.1:2525` (plain, loopback only when it carries credentials).
    /// Unset: mail is written to [`MailSettings::dir`].
    pub url: Option<String>,
    /// `MAIL_DIR`, default `mail`: where `.eml` files go without `MAIL_URL`.
    pub dir: PathBuf,
    /// `MAIL_FROM`, default `Oxide & Oak <shop@localhost>`.
    pub from: Mailbox,
    /// `MAIL_TIMEOUT_SECS`, default 30: the longest one send may take, all of it
    /// (connecting, greeting, every command): a stalled server cannot hold the worker.
    pub timeout: Duration,
    /// How often the worker looks for due mail that no wake-up announced (another
    /// process's, a retry coming due). Not an environment setting.
    pub poll: Duration,
    /// The first retry's wait; each further one doubles it, up to an hour.
    pub retry_base_secs: i64,
    /// Tries before a mail that keeps failing transiently is given up.
    pub max_attempts: i64,
}

impl MailSettings {
    pub fn new(url: Option<String>, dir: PathBuf, from: Mailbox, timeout: Duration) -> Self {
        MailSettings {
            url,
            dir,
            from,
            timeout,
            poll: Duration::from_secs(2),
            retry_base_secs: 30,
            max_attempts: 10,
        }
    }

    /// The sender of a newcomer's shop.
    pub fn default_from() -> Mailbox {
        Mailbox::new(
            Some("Oxide & Oak".into()),
            "shop@localhost".parse().expect("a valid address"),
        )
    }
}

/// Parses `MAIL_FROM`.
pub fn parse_from(text: &str) -> Result<Mailbox, String> {
    text.parse::<Mailbox>()
        .map_err(|e| format!("not a mail address ({e}); e.g. `Oxide & Oak <shop@example.com>`"))
}

/// Checks `MAIL_URL` before the shop starts: a scheme lettre knows, a host, and no
/// credentials over a connection without TLS unless the server is on this machine.
/// The reason never repeats the URL (it may hold a password).
pub fn check_url(text: &str) -> Result<(), String> {
    let url = Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let encrypted = match (url.scheme(), tls.as_deref()) {
        ("smtps", None) => true,
        ("smtp", Some("required")) => true,
        ("smtp", None | Some("opportunistic")) => false,
        _ => {
            return Err(
                "use smtps://host, smtp://host:587?tls=required or smtp://host (tls=required or opportunistic)"
                    .into(),
            )
        }
    };
    let host = url.host().ok_or("the URL names no host")?;
    let loopback = match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    };
    let credentials = !url.username().is_empty() || url.password().is_some();
    if credentials && !encrypted && !loopback {
        return Err(
            "credentials would cross the network unencrypted: use smtps:// or ?tls=required".into(),
        );
    }
    AsyncSmtpTransport::<Tokio1Executor>::from_url(text)
        .map(|_| ())
        .map_err(|_| "lettre cannot use this URL".to_string())
}

/// Why a send did not go through.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth another try later: a 4xx answer, no connection, a timeout, a TLS hiccup.
    #[error("transient: {0}")]
    Transient(String),
    /// The server refused it for good (5xx), or the mail cannot be made.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// One of the two ways out.
#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf, AsyncFileTransport<Tokio1Executor>),
}

impl Transport {
    /// The transport the settings name; the directory is created if missing.
    pub fn open(settings: &MailSettings) -> Result<Transport, String> {
        match &settings.url {
            Some(url) => {
                check_url(url)?;
                let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|_| "lettre cannot use MAIL_URL".to_string())?
                    .timeout(Some(settings.timeout))
                    .build();
                Ok(Transport::Smtp(smtp))
            }
            None => {
                std::fs::create_dir_all(&settings.dir).map_err(|e| {
                    format!(
                        "cannot create the mail directory {}: {e}",
                        settings.dir.display()
                    )
                })?;
                let dir = settings.dir.clone();
                Ok(Transport::Files(dir.clone(), AsyncFileTransport::new(dir)))
            }
        }
    }

    /// Sends `message`, all of it within `limit`. `Ok` names where it went (the file, or
    /// the SMTP server's answer code), never what it says.
    pub async fn send(&self, message: Message, limit: Duration) -> Result<String, SendError> {
        let sent = tokio::time::timeout(limit, async {
            match self {
                Transport::Smtp(smtp) => smtp
                    .send(message)
                    .await
                    .map(|r| format!("accepted ({})", r.code()))
                    .map_err(classify),
                Transport::Files(dir, files) => files
                    .send(message)
                    .await
                    .map(|id| format!("written to {}", dir.join(format!("{id}.eml")).display()))
                    .map_err(|e| SendError::Transient(format!("cannot write the file: {e}"))),
            }
        })
        .await;
        sent.unwrap_or_else(|_| Err(SendError::Transient(format!("no answer within {limit:?}"))))
    }
}

/// Sorts an SMTP error, describing it by its code or kind only: a server's reply text
/// often repeats the recipient's address, which the log must not hold.
fn classify(e: lettre::transport::smtp::Error) -> SendError {
    match e.status() {
        Some(code) if e.is_permanent() => SendError::Permanent(format!("refused with {code}")),
        Some(code) => SendError::Transient(format!("deferred with {code}")),
        None if e.is_timeout() => SendError::Transient("timed out".into()),
        None if e.is_tls() => SendError::Transient("TLS failed".into()),
        None => SendError::Transient("no connection to the mail server".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_urls() {
        for ok in [
            "smtps://user:secret@mail.example.com",
            "smtp://mail.example.com:587?tls=required",
            "smtp://user:secret@mail.example.com:587?tls=required",
            "smtp://127.0.0.1:2525",
            "smtp://user:secret@localhost:2525",
            "smtp://mail.example.com:25",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}: {:?}", check_url(ok));
        }
        for bad in [
            "smtp://user:secret@mail.example.com:587",
            "smtp://user:secret@mail.example.com?tls=opportunistic",
            "http://mail.example.com",
            "smtp://mail.example.com?tls=maybe",
            "not a url",
        ] {
            let e = check_url(bad).unwrap_err();
            assert!(!e.contains("secret"), "{e}");
        }
    }
}
