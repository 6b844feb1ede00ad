use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

/// A server allocator: rendering a page makes thousands of small allocations on two
/// worker threads at once, which glibc's malloc serves slowly (see docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn")),
        )
        .init();

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
