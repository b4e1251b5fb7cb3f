use tarn_model::Timestamp;

/// The time source. Injected so that tests are deterministic.
///
/// Contract: successive calls in one process never go backwards.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// Unique id source for staging tokens, data object keys and upload ids.
///
/// Contract: ids are 1 to 64 characters of `[0-9a-z]`, unique across
/// processes and machines (a random component), and sort by creation time
/// within one process, so that data written later lists later.
pub trait IdGenerator: Send + Sync + 'static {
    /// A new id.
    fn new_id(&self) -> String;
}
