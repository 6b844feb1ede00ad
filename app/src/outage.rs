//! Whether this process has just met the database out of reach (ssr only). A leaf: the
//! error edge marks it (through the Leptos context, where `AppState` provides it), the
//! server's outage guard reads it.

/// Whether this process has just met the database out of reach (an answer was 503). While
/// it has, each page first checks that the database answers (`server::unavailable`).
#[derive(Debug, Default)]
pub struct Outage(std::sync::atomic::AtomicBool);

impl Outage {
    pub fn suspect(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn suspected(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn clear(&self) {
        self.0.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}
