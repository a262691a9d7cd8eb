//! A one-shot reply slot that can be awaited from async code or waited on from a thread, with
//! no runtime dependency (and no panic when waited on from inside one).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::engine::Appended;
use crate::error::Error;

type Outcome = Result<Appended, Error>;

#[derive(Debug, Default)]
struct State {
    outcome: Option<Outcome>,
    /// The sender went away without replying.
    closed: bool,
    waker: Option<Waker>,
}

#[derive(Debug, Default)]
struct Slot {
    state: Mutex<State>,
    ready: Condvar,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn finish(&self, outcome: Option<Outcome>) {
        let waker = {
            let mut state = self.lock();
            match outcome {
                Some(outcome) => state.outcome = Some(outcome),
                None => state.closed = true,
            }
            state.waker.take()
        };
        self.ready.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The sequencer's end: replying consumes it; dropping it unreplied closes the slot.
#[derive(Debug)]
pub(crate) struct Reply(Option<Arc<Slot>>);

impl Reply {
    pub(crate) fn send(mut self, outcome: Outcome) {
        if let Some(slot) = self.0.take() {
            slot.finish(Some(outcome));
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            slot.finish(None);
        }
    }
}

/// The answer to [`crate::Log::append`], ready once the entry is durable under a published
/// checkpoint.
///
/// Await it from async code, or call [`PendingAppend::wait`] from a thread.
#[derive(Debug)]
pub struct PendingAppend(Arc<Slot>);

/// A connected reply slot.
pub(crate) fn channel() -> (Reply, PendingAppend) {
    let slot = Arc::new(Slot::default());
    (Reply(Some(Arc::clone(&slot))), PendingAppend(slot))
}

impl PendingAppend {
    /// Blocks the current thread until the entry is acknowledged or fails. In async code, await
    /// the `PendingAppend` instead: waiting blocks the executor's thread.
    ///
    /// # Errors
    ///
    /// [`Error::BatchFailed`] if the batch failed; [`Error::Closed`] if the log shut down first.
    pub fn wait(self) -> Outcome {
        let mut state = self.0.lock();
        loop {
            if let Some(outcome) = state.outcome.take() {
                return outcome;
            }
            if state.closed {
                return Err(Error::Closed);
            }
            state = self
                .0
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Future for PendingAppend {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        let mut state = self.0.lock();
        if let Some(outcome) = state.outcome.take() {
            return Poll::Ready(outcome);
        }
        if state.closed {
            return Poll::Ready(Err(Error::Closed));
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
