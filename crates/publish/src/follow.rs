//! Following a log: publish each new checkpoint, retry failures, count what happened.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::publisher::Publisher;

/// How often the log's checkpoint is looked at (the engine has no notification).
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// The first retry delay after a failed publication; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest retry delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A follower's counters, shared with whoever reports them (the server's `/metrics`).
///
/// Written only by the follower; read by anyone, at any time, without locks.
#[derive(Debug, Default)]
pub struct Metrics {
    published_size: AtomicU64,
    publications: AtomicU64,
    objects: AtomicU64,
    errors: AtomicU64,
    last_duration_us: AtomicU64,
}

impl Metrics {
    /// All zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The size of the last checkpoint published (or found at the target on resume).
    pub fn published_size(&self) -> u64 {
        self.published_size.load(Ordering::Relaxed)
    }

    /// Publications that wrote a new checkpoint.
    pub fn publications(&self) -> u64 {
        self.publications.load(Ordering::Relaxed)
    }

    /// Objects written, checkpoints included.
    pub fn objects(&self) -> u64 {
        self.objects.load(Ordering::Relaxed)
    }

    /// Failed publication attempts.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// How long the last publication that wrote a checkpoint took.
    pub fn last_duration(&self) -> Duration {
        Duration::from_micros(self.last_duration_us.load(Ordering::Relaxed))
    }
}

/// Publishes every new checkpoint of the publisher's log, forever, while `should_publish()`
/// says so (in a cluster, only the sequencer publishes; pass `|| true` otherwise).
///
/// Looks at the log every [`POLL_INTERVAL`]. Failures are logged, counted in `metrics` and
/// retried with a doubling delay up to [`MAX_BACKOFF`]; they never touch the log. Whenever
/// `should_publish()` turns true (at the start, too), the target's checkpoint is read again,
/// since another node may have published meanwhile.
///
/// Returns only on an error retrying cannot fix ([`Error::is_fatal`]: a conflicting object
/// or a target that holds another log), after logging it; the caller decides what to do.
pub async fn follow(
    mut publisher: Publisher,
    should_publish: Arc<dyn Fn() -> bool + Send + Sync>,
    metrics: Arc<Metrics>,
) -> Error {
    let mut allowed = false;
    let mut backoff = FIRST_BACKOFF;
    loop {
        if !should_publish() {
            allowed = false;
            tokio::time::sleep(POLL_INTERVAL).await;
            continue;
        }
        let attempt = async {
            if !allowed {
                if let Some(size) = publisher.resume().await? {
                    metrics.published_size.store(size, Ordering::Relaxed);
                }
                allowed = true;
            }
            let started = Instant::now();
            let publication = publisher.publish().await?;
            if publication.objects > 0 {
                let elapsed = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                metrics.last_duration_us.store(elapsed, Ordering::Relaxed);
                metrics.publications.fetch_add(1, Ordering::Relaxed);
                metrics
                    .objects
                    .fetch_add(publication.objects as u64, Ordering::Relaxed);
                metrics
                    .published_size
                    .store(publication.size, Ordering::Relaxed);
                tracing::debug!(
                    target = publisher.target().url(),
                    prefix = publisher.prefix(),
                    from = publication.from,
                    size = publication.size,
                    objects = publication.objects,
                    "published a checkpoint"
                );
            }
            Ok::<(), Error>(())
        };
        match attempt.await {
            Ok(()) => {
                backoff = FIRST_BACKOFF;
                tokio::time::sleep(POLL_INTERVAL).await;
            }
            Err(e) if e.is_fatal() => {
                metrics.errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    target = publisher.target().url(),
                    prefix = publisher.prefix(),
                    error = %e,
                    "publishing stopped"
                );
                return e;
            }
            Err(e) => {
                metrics.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    target = publisher.target().url(),
                    prefix = publisher.prefix(),
                    error = %e,
                    retry_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                    "publishing failed; retrying"
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
