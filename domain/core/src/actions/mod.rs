//! Actions and hooks (lakeFS's `pkg/actions`): action files read from the
//! reference an event concerns, matched by event and branch, whose hooks
//! run before (and may stop) or after the change.

mod event;
mod file;
mod glob;
mod hooks;
#[cfg(test)]
mod tests;

pub use event::{HookCommit, HookEvent, HookRecord};
pub use file::{
    check_unique_names, parse_all, Action, ActionError, HookKind, HookSpec, ACTIONS_PREFIX,
};
pub use hooks::{aborted, Hooks};
