/// The hook that long jobs (fits, evaluations, simulations) report to.
///
/// `report` returns `false` to ask the job to stop; the job then returns [`Cancelled`] (wrapped
/// in its crate's error) at the next safe point. The CLI shows it as a progress bar, the service
/// as job status.
pub trait Progress: Send + Sync {
    /// Sets the total number of steps of the current stage and names it.
    fn start(&self, _stage: &str, _total: u64) {}
    /// Reports `done` more steps; returns `false` to cancel.
    fn advance(&self, _done: u64) -> bool {
        true
    }
}

/// A progress hook that shows nothing and never cancels.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// The job was cancelled through its [`Progress`] hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;
