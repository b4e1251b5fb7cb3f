//! The audit log: who did what, as its own log target (`audit`), written
//! as JSON lines to `logging.audit_path` when set. Recorded: every request
//! that changes something (any method but GET, HEAD and OPTIONS: writes,
//! commits, merges, branch, tag and repository changes, user, group,
//! policy and credential changes, logins) on the API and the gateway, and
//! every request refused for its credentials or permissions (401, 403),
//! with the user, the source address, the request id and the outcome.

use super::observe::Seen;

/// The target audit events are logged under.
pub const TARGET: &str = "audit";

/// Whether `seen` belongs in the audit log.
fn audited(seen: &Seen<'_>) -> bool {
    let driver = seen.tag.driver == "api" || seen.tag.driver == "s3";
    let changes = !matches!(seen.method, "GET" | "HEAD" | "OPTIONS");
    driver && (changes || matches!(seen.status, 401 | 403))
}

/// Writes the audit event of `seen`, if it is one.
pub fn record(seen: &Seen<'_>) {
    if !audited(seen) {
        return;
    }
    let outcome = match seen.status {
        401 => "unauthenticated",
        403 => "denied",
        200..=399 => "success",
        _ => "failure",
    };
    tracing::info!(
        target: TARGET,
        request_id = &*seen.id.0,
        user = seen.tag.user.as_deref().unwrap_or(""),
        source = seen.source,
        driver = seen.tag.driver,
        operation = seen.tag.operation,
        method = seen.method,
        path = seen.target,
        status = seen.status,
        outcome,
        "audit"
    );
}
