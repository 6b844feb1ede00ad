//! The words of each mail. Plain ASCII text with short lines, so every transfer
//! encoding leaves a link whole. A mail names times, devices and networks coarsely, as
//! the security log does; it never holds a session id, and only a verification or reset
//! mail holds a link with a secret.

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::Message;

use super::outbox::{MailKind, Queued};

/// How long a verification link works.
pub const VERIFY_SECS: i64 = 24 * 60 * 60;
/// How long a reset link works.
pub const RESET_SECS: i64 = 30 * 60;

/// A queued row as a message from `from`, with links to the shop at `origin`.
pub fn render(row: &Queued, from: &Mailbox, origin: &str) -> Result<Message, String> {
    let kind = MailKind::from_name(&row.kind).ok_or("unknown kind of mail")?;
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|_| "the recipient is not a mail address".to_string())?;
    let (subject, body) = words(kind, row, origin);
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| format!("cannot build the message: {e}"))
}

/// The subject and the text of a mail.
pub fn words(kind: MailKind, row: &Queued, origin: &str) -> (String, String) {
    let hello = if row.username.is_empty() {
        "Hello,".to_string()
    } else {
        format!("Hello {},", row.username)
    };
    let when = crate::orders::server::format_time(row.happened_at);
    let device = crate::account::device::describe(&row.user_agent);
    let network = if row.network.is_empty() {
        "an unknown network".to_string()
    } else {
        format!("network {}", row.network)
    };
    let (subject, text) = match kind {
        MailKind::Verify => (
            "Confirm your address for Oxide & Oak",
            format!(
                "please confirm that this is your address for your account\n\
                 at Oxide & Oak by opening this link within 24 hours:\n\n\
                 {origin}/verify/{token}\n\n\
                 If you did not ask for this, ignore this mail: nothing\n\
                 changes, and we will not write to this address again.",
                token = row.token
            ),
        ),
        MailKind::AddressTaken => (
            "Someone tried to use your address at Oxide & Oak",
            format!(
                "on {when}, someone tried to use this address for another\n\
                 account at Oxide & Oak. It stays with your account{of}, and\n\
                 nothing was changed.\n\n\
                 If it was you: sign in at {origin}/login\n\
                 Forgot your password? {origin}/forgot",
                of = if row.username.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", row.username)
                }
            ),
        ),
        MailKind::AddressChange => (
            "The address of your Oxide & Oak account is being changed",
            format!(
                "on {when}, on {device} ({network}), someone signed in to\n\
                 your account asked to change its address to\n\n\
                 {address}\n\n\
                 Once that address is confirmed, mail goes there instead of\n\
                 here. If this was not you, sign in, change your password\n\
                 and sign out the other sessions: {origin}/account",
                address = row.address
            ),
        ),
        MailKind::Reset => (
            "Reset your Oxide & Oak password",
            format!(
                "someone (we hope you) asked to reset the password of your\n\
                 account at Oxide & Oak. Open this link within 30 minutes\n\
                 to choose a new one:\n\n\
                 {origin}/reset/{token}\n\n\
                 The link works once. If you did not ask for it, ignore this\n\
                 mail: your password stays as it is.",
                token = row.token
            ),
        ),
        MailKind::PasswordChanged => (
            "Your Oxide & Oak password was changed",
            format!(
                "the password of your account at Oxide & Oak was changed\n\
                 on {when}, on {device} ({network}).\n\
                 Every other session of the account was signed out.\n\n\
                 If this was not you, reset your password now:\n\
                 {origin}/forgot"
            ),
        ),
        MailKind::NewSignIn => (
            "New sign-in to your Oxide & Oak account",
            format!(
                "your account at Oxide & Oak was signed in to from a browser\n\
                 that had not signed in to it before:\n\n\
                 When:    {when}\n\
                 Device:  {device}\n\
                 Network: {network}\n\n\
                 If this was you, there is nothing to do. If not, review\n\
                 where you are signed in and change your password:\n\
                 {origin}/account"
            ),
        ),
    };
    (
        subject.to_string(),
        format!("{hello}\n\n{text}\n\n-- \nOxide & Oak\n"),
    )
}
