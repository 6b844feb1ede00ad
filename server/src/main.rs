use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

/// A server allocator: rendering a page makes thousands of small allocations on two
/// worker threads at once, which glibc's malloc serves slowly (see docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(e) = init_logging(std::env::var("LOG_FORMAT").ok().as_deref()) {
        eprintln!("shop: {e}");
        return ExitCode::FAILURE;
    }

    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [command, file] = args.as_slice() {
        if command == "import" {
            return import(file).await;
        }
    }
    if !args.is_empty() {
        eprintln!("usage: server            serve the shop (settings from the environment)\n       server import FILE   load products from FILE (.csv or .jsonl) into DATABASE_URL");
        return ExitCode::FAILURE;
    }
    let result = match server::Config::from_env() {
        Ok(config) => server::run(config).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One clear line, no panic trace.
            eprintln!("shop: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `server import FILE`: exits non-zero if the file could not be read or some rows
/// were refused (the others are loaded).
async fn import(file: &str) -> ExitCode {
    let config = match server::Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("shop: {e}");
            return ExitCode::FAILURE;
        }
    };
    match server::import::run(file, &config).await {
        Ok(summary) if summary.refused == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(2),
        Err(e) => {
            eprintln!("shop: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The log: `RUST_LOG` filters it; `LOG_FORMAT` is `text` (the default: one readable line
/// per event) or `json` (one JSON object per line, with the request's span, for log
/// collectors).
fn init_logging(format: Option<&str>) -> Result<(), String> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format.map(str::trim).unwrap_or("") {
        "" | "text" => builder.init(),
        "json" => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        other => {
            return Err(format!(
                "invalid value for LOG_FORMAT: expected text or json, got {other:?}"
            ))
        }
    }
    Ok(())
}
