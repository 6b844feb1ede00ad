//! Test harness: the real router on a random port, a fresh database per test (a SQLite
//! file, or a new database on the PostgreSQL server named by `SHOP_TEST_POSTGRES_URL`:
//! see `db::testing`), a fake clock, and HTTP clients with or without a cookie jar.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use app::state::AppState;
use leptos::config::LeptosOptions;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::redirect::Policy;
pub use server::seed::{ALICE, BOB};
use server::Config;
use sessions::FakeClock;

/// All test servers run on one multi-threaded runtime, as in production. (Each
/// `#[tokio::test]` has its own single-threaded runtime; serving Leptos from several of
/// those at once in one process hung a request now and then.)
static SERVER_RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test server runtime")
});

/// Every ERROR line the servers of this test binary have logged, in order (tests look for
/// their own: an error's line names what failed).
static ERRORS: LazyLock<Arc<std::sync::Mutex<Vec<u8>>>> = LazyLock::new(Default::default);

/// Every line at INFO and above that the servers of this test binary have logged (the
/// mail tests look through it for tokens and addresses, which must never be there).
static LOG: LazyLock<Arc<std::sync::Mutex<Vec<u8>>>> = LazyLock::new(Default::default);

/// `RUST_LOG=debug cargo test ...` shows the servers' log; the ERROR lines are also kept
/// in [`ERRORS`].
fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    struct Capture;
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            ERRORS.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let shown = tracing_subscriber::fmt::layer()
        .with_test_writer()
        .with_filter(tracing_subscriber::EnvFilter::from_default_env());
    let kept = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(|| Capture)
        // Every span (a line names the request it belongs to), ERROR events only.
        // ERROR events, and the request spans (a line names the request it belongs to).
        .with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_default(tracing::Level::ERROR)
                .with_target("server::request_id", tracing::Level::INFO),
        );
    struct Everything;
    impl std::io::Write for Everything {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            LOG.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let everything = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(|| Everything)
        .with_filter(tracing_subscriber::filter::LevelFilter::INFO);
    let _ = tracing_subscriber::registry()
        .with(shown)
        .with(kept)
        .with(everything)
        .try_init();
}

/// Everything logged at INFO and above so far, by every server of this test binary.
pub fn whole_log() -> String {
    String::from_utf8_lossy(&LOG.lock().unwrap()).into_owned()
}

/// How much of [`ERRORS`] has been written so far.
pub fn errors_logged() -> usize {
    ERRORS.lock().unwrap().len()
}

/// The ERROR lines logged since `mark` (from [`errors_logged`]).
pub fn errors_since(mark: usize) -> String {
    String::from_utf8_lossy(&ERRORS.lock().unwrap()[mark..]).into_owned()
}

/// Runs `work` on the servers' runtime (for helpers that must keep running while a test
/// waits, such as a network link between the shop and its database).
pub fn spawn_background(work: impl std::future::Future<Output = ()> + Send + 'static) {
    SERVER_RUNTIME.spawn(work);
}

/// The fake clock starts here (2026-01-01T00:00:00Z).
pub const T0: i64 = 1_767_225_600;

pub struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub state: AppState,
    pub clock: FakeClock,
    /// The database this server runs on (a second server may be started on it).
    pub database_url: String,
    raw: reqwest::Client,
    mail_worker: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// The shop with demo data, http cookies (no `Secure`).
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// The shop, after `tweak` has adjusted its configuration.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_custom(tweak, |_| {}).await
    }

    /// The shop, after `tweak` has adjusted its configuration and `site` its Leptos
    /// options (where the built files are, whether their names are hashed).
    pub async fn spawn_custom(
        tweak: impl FnOnce(&mut Config),
        site: impl FnOnce(&mut LeptosOptions) + Send + 'static,
    ) -> TestApp {
        init_logging();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::from_lookup(|_| None).expect("default config");
        config.database_url = db::testing::fresh_url(&dir.path().join("shop.db")).await;
        // Tests run side by side, each with its own pool on one PostgreSQL server.
        config.postgres.max_connections = 8;
        config.sessions.secure = false;
        // Mail: `.eml` files in the test's directory unless the test names an SMTP server;
        // the worker looks often (a real one waits 2 s between looks).
        config.mail.dir = dir.path().join("mail");
        config.mail.poll = std::time::Duration::from_millis(50);
        config.mail.timeout = std::time::Duration::from_secs(5);
        tweak(&mut config);
        let database_url = config.database_url.clone();
        let clock = FakeClock::new(T0);
        let server_clock = clock.clone();
        let (state, addr, mail_worker) = SERVER_RUNTIME
            .spawn(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let mut options = LeptosOptions::builder()
                    .output_name("shop")
                    .site_root("target/site")
                    .site_addr(addr)
                    .build();
                site(&mut options);
                let state = server::prepare(&config, options, Arc::new(server_clock))
                    .await
                    .expect("prepare");
                let app = server::app(state.clone(), &config);
                let limits = config.connections.clone();
                tokio::spawn(server::serve::serve(
                    listener,
                    app,
                    limits,
                    std::future::pending(),
                ));
                let mail_worker = server::spawn_mail_worker(&state, &config).expect("mail worker");
                (state, addr, mail_worker)
            })
            .await
            .expect("test server start");
        let raw = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        TestApp {
            base: format!("http://{addr}"),
            addr,
            state,
            clock,
            database_url,
            raw,
            mail_worker,
            _dir: dir,
        }
    }

    /// The first of several servers on one database: like [`TestApp::spawn`], but on
    /// SQLite with the session cache off (see [`TestApp::spawn_beside`]).
    pub async fn spawn_first_of_several() -> TestApp {
        let sqlite = db::testing::backend() == db::Backend::Sqlite;
        TestApp::spawn_with(move |c| {
            if sqlite {
                c.sessions.cache_capacity = 0;
            }
        })
        .await
    }

    /// Another server (another "process": its own router, pools, session cache and
    /// listener) on this one's database. On SQLite, where one process per database file
    /// is the supported setup, it reads every session from the file (cache off), as the
    /// README says for that case.
    pub async fn spawn_beside(&self) -> TestApp {
        let url = self.database_url.clone();
        let sqlite = self.backend() == db::Backend::Sqlite;
        TestApp::spawn_with(move |c| {
            c.database_url = url;
            c.seed_demo_data = false;
            if sqlite {
                c.sessions.cache_capacity = 0;
            }
        })
        .await
    }

    /// The backend this test runs on.
    pub fn backend(&self) -> db::Backend {
        self.state.db.backend()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client that keeps cookies like a browser and does not follow redirects.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// A client without a cookie jar (cookies are set by hand).
    pub fn raw(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    pub async fn session_count(&self) -> i64 {
        self.state.sessions.count().await.unwrap()
    }

    /// POSTs a form to a server function (as a script would: JSON answers).
    pub async fn post(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client.post(self.url(path)).form(form).send().await.unwrap()
    }

    /// POSTs a form the way a browser without JavaScript does (`Accept: text/html`).
    pub async fn post_html(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .header("accept", "text/html,application/xhtml+xml")
            .header("sec-fetch-site", "same-origin")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// POSTs to `path` with this raw `Cookie` header and no jar (hostile or replayed cookies).
    pub async fn post_with_cookie(
        &self,
        path: &str,
        cookie: impl Into<HeaderValueLike>,
    ) -> reqwest::Response {
        self.raw
            .post(self.url(path))
            .header("cookie", cookie.into().0)
            .send()
            .await
            .unwrap()
    }

    /// POSTs a form to `path` with this raw `Cookie` header and no jar.
    pub async fn post_form_with_cookie(
        &self,
        path: &str,
        cookie: impl Into<HeaderValueLike>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.raw
            .post(self.url(path))
            .header("cookie", cookie.into().0)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// GETs `path` with this raw `Cookie` header and no jar.
    pub async fn get_with_cookie(
        &self,
        path: &str,
        cookie: impl Into<HeaderValueLike>,
    ) -> reqwest::Response {
        self.raw
            .get(self.url(path))
            .header("cookie", cookie.into().0)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(
        &self,
        client: &reqwest::Client,
        user: &str,
        password: &str,
    ) -> reqwest::Response {
        self.post(
            client,
            "/api/login",
            &[("username", user), ("password", password)],
        )
        .await
    }

    /// Who the server thinks `client` is (`None` = anonymous).
    pub async fn whoami(&self, client: &reqwest::Client) -> Option<String> {
        let res = self.post(client, "/api/current_user", &[]).await;
        assert_eq!(res.status(), 200, "current_user failed");
        let v: serde_json::Value = res.json_value().await;
        v.get("username")
            .and_then(|u| u.as_str())
            .map(str::to_string)
    }
}

impl Drop for TestApp {
    /// Gives the database connections back (a test binary starts dozens of servers, and a
    /// PostgreSQL server allows a few hundred connections in all).
    fn drop(&mut self) {
        self.mail_worker.abort();
        self.state.sessions.close();
        let db = self.state.db.clone();
        SERVER_RUNTIME.spawn(async move { db.close().await });
    }
}

/// The body of `GET path` as `client` sees it.
pub async fn get_html(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The id of the product with this slug.
pub async fn product_id(app: &TestApp, slug: &str) -> i64 {
    db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT id FROM products WHERE slug = $1"
    )
    .bind(slug)
    .fetch_one(p)
    .await)
    .unwrap()
}

/// Runs one SQL statement on the test's database (setting up a state, injecting a fault).
pub async fn exec(app: &TestApp, sql: &str) {
    db::on!(app.state.db.writer(), p => sqlx::query(sql)
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Makes every DELETE on `table` fail with `message` (a trigger), to check that a
/// transaction whose later step fails leaves nothing behind. Undone by [`mend_deletes`].
pub async fn break_deletes(app: &TestApp, table: &str, message: &str) {
    let sqlite = [format!(
        "CREATE TRIGGER fail_delete_{table} BEFORE DELETE ON {table}
         BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )];
    let postgres = [
        format!(
            "CREATE FUNCTION fail_delete_{table}() RETURNS trigger LANGUAGE plpgsql
             AS $$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        ),
        format!(
            "CREATE TRIGGER fail_delete_{table} BEFORE DELETE ON {table}
             FOR EACH ROW EXECUTE FUNCTION fail_delete_{table}()"
        ),
    ];
    for sql in app.state.db.pick(&sqlite[..], &postgres[..]) {
        exec(app, sql).await;
    }
}

/// Undoes [`break_deletes`].
pub async fn mend_deletes(app: &TestApp, table: &str) {
    let sql = app.state.db.pick(
        format!("DROP TRIGGER fail_delete_{table}"),
        format!("DROP TRIGGER fail_delete_{table} ON {table}"),
    );
    exec(app, &sql).await;
}

/// `POST /api/add_to_cart` as a script would.
pub async fn add(
    app: &TestApp,
    client: &reqwest::Client,
    product: i64,
    quantity: &str,
) -> reqwest::Response {
    app.post(
        client,
        "/api/add_to_cart",
        &[("product_id", &product.to_string()), ("quantity", quantity)],
    )
    .await
}

/// `POST /api/add_to_cart` with a session cookie of our own (no cookie jar).
pub async fn add_with_cookie(
    app: &TestApp,
    token: &str,
    product: i64,
    quantity: &str,
) -> reqwest::Response {
    app.post_form_with_cookie(
        "/api/add_to_cart",
        cookie_header(token),
        &[("product_id", &product.to_string()), ("quantity", quantity)],
    )
    .await
}

/// The `Set-Cookie` headers of a response.
pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// The session cookie a response set or cleared (`sid=…` or `__Host-sid=…`; a sign-in
/// also sets the device cookie).
pub fn session_cookie(headers: &HeaderMap) -> String {
    set_cookies(headers)
        .into_iter()
        .find(|c| {
            c.split('=')
                .next()
                .is_some_and(|name| name.ends_with("sid"))
        })
        .expect("a session cookie")
}

/// The session token a response set (`sid=<token>`), if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    set_cookies(headers).iter().find_map(|c| {
        let first = c.split(';').next()?;
        let (name, value) = first.split_once('=')?;
        (name.ends_with("sid") && !value.is_empty()).then(|| value.to_string())
    })
}

pub fn cookie_header(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("sid={token}")).unwrap()
}

pub trait JsonValue {
    async fn json_value(self) -> serde_json::Value;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> serde_json::Value {
        let text = self.text().await.unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

/// Anything usable as a raw `Cookie` header value in the helpers above.
pub struct HeaderValueLike(pub HeaderValue);

impl From<HeaderValue> for HeaderValueLike {
    fn from(v: HeaderValue) -> Self {
        HeaderValueLike(v)
    }
}

impl From<&str> for HeaderValueLike {
    fn from(v: &str) -> Self {
        HeaderValueLike(HeaderValue::from_str(v).expect("valid header text"))
    }
}

impl From<String> for HeaderValueLike {
    fn from(v: String) -> Self {
        HeaderValueLike(HeaderValue::from_str(&v).expect("valid header text"))
    }
}

/// The number in the header's cart badge of a rendered page.
pub fn badge(html: &str) -> String {
    let at = html.find(r#"data-testid="cart-count""#).expect("badge");
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = start + rest[start..].find('<').unwrap();
    rest[start..end].trim().to_string()
}

/// Hangs up `socket` (a raw request was written to it) and tells whether the server had
/// begun its answer before that. A hang-up test counts only the hang-ups that came first:
/// those are the ones that can cut a request off in the middle. (Asks the socket itself,
/// not the runtime's cached readiness, which may lag behind.)
pub fn hang_up(socket: tokio::net::TcpStream) -> bool {
    let socket = socket.into_std().expect("a tokio socket is a std socket");
    let mut byte = [0u8; 1];
    matches!(socket.peek(&mut byte), Ok(n) if n > 0)
}

/// POSTs the form `body` to `path` with this `Cookie` header over a connection of its
/// own, waits `delay`, and hangs up; says whether the answer had begun (see [`hang_up`]).
/// Hang-up tests call it a little later each time, so some hang-ups land mid-request.
pub async fn post_and_hang_up(
    app: &TestApp,
    path: &str,
    cookie: &str,
    body: &str,
    delay: std::time::Duration,
) -> bool {
    use tokio::io::AsyncWriteExt;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Length: {}\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(delay).await;
    hang_up(socket)
}

/// A billing address that `/api/place_order` accepts.
pub const ADDRESS: [(&str, &str); 6] = [
    ("name", "Alice Liddell"),
    ("address_line1", "1 Rabbit Hole"),
    ("address_line2", ""),
    ("city", "Oxford"),
    ("postal_code", "OX1 1DP"),
    ("country", "GB"),
];

/// A real SMTP server for one test: `scripts/mail-sink` (aiosmtpd) writing a Maildir in a
/// directory of its own. Killed when dropped.
pub struct MailSink {
    child: std::process::Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

/// One mail as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope's recipient.
    pub to: String,
    pub subject: String,
    /// The text, transfer encoding undone.
    pub body: String,
}

impl Mail {
    /// The first link in the text that starts with `prefix` (e.g. `http://host/reset/`).
    pub fn link(&self, prefix: &str) -> Option<String> {
        let at = self.body.find(prefix)?;
        let rest = &self.body[at..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        Some(rest[..end].to_string())
    }

    /// The token of the first link of this path (`/reset/` or `/verify/`).
    pub fn token(&self, path: &str) -> Option<String> {
        let at = self.body.find(path)?;
        let rest = &self.body[at + path.len()..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        Some(rest[..end].to_string())
    }
}

impl MailSink {
    /// Starts on a free port (the server binds port 0 and says which it got).
    pub fn start() -> MailSink {
        MailSink::start_on(0)
    }

    /// Starts on `port` (a test that began with no server there), or a free one for 0.
    pub fn start_on(port: u16) -> MailSink {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("maildir");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/mail-sink");
        let mut child = std::process::Command::new(script)
            .args(["--port", &port.to_string(), "--maildir"])
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("scripts/mail-sink starts (python3 with aiosmtpd: scripts/bootstrap)");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("mail sink output");
        let port = line
            .trim()
            .strip_prefix("listening on 127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("mail sink did not start: {line:?}"));
        MailSink { child, port, dir }
    }

    /// The shop's `MAIL_URL` for this server.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far, oldest first.
    pub fn mails(&self) -> Vec<Mail> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path().join("new"))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .map(|raw| parse_mail(&raw))
            .collect()
    }

    /// The mails to `to` received so far.
    pub fn mails_to(&self, to: &str) -> Vec<Mail> {
        self.mails().into_iter().filter(|m| m.to == to).collect()
    }

    /// The mails to `to` with this subject received so far.
    pub fn mails_about(&self, to: &str, subject: &str) -> Vec<Mail> {
        self.mails_to(to)
            .into_iter()
            .filter(|m| m.subject == subject)
            .collect()
    }

    /// Waits (10 s at most) until `to` has received `n` mails, and returns them.
    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<Mail> {
        self.wait_until(to, n, |_| true).await
    }

    /// Waits (10 s at most) until `to` has received `n` mails with this subject, and
    /// returns them.
    pub async fn wait_about(&self, to: &str, subject: &str, n: usize) -> Vec<Mail> {
        self.wait_until(to, n, |m| m.subject == subject).await
    }

    async fn wait_until(&self, to: &str, n: usize, wanted: impl Fn(&Mail) -> bool) -> Vec<Mail> {
        let got = || -> Vec<Mail> {
            self.mails_to(to)
                .into_iter()
                .filter(|m| wanted(m))
                .collect()
        };
        for _ in 0..200 {
            let mails = got();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "{to} received {} such mails, not {n}: {:?}",
            got().len(),
            self.mails()
        );
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headers and text of a stored mail (`X-RcptTo` is the Maildir writer's record of the
/// envelope recipient). Undoes quoted-printable, the one transfer encoding ASCII text
/// may get.
fn parse_mail(raw: &str) -> Mail {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let body = if header("Content-Transfer-Encoding").eq_ignore_ascii_case("quoted-printable") {
        let joined = body.replace("=\n", "");
        let mut out = Vec::new();
        let bytes = joined.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 3 <= bytes.len() {
                if let Ok(b) = u8::from_str_radix(&joined[i + 1..(i + 3).min(joined.len())], 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    } else {
        body.to_string()
    };
    Mail {
        to: header("X-RcptTo"),
        subject: header("Subject"),
        body,
    }
}
