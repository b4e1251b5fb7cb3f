//! The ARNs that permissions name (lakeFS's `pkg/permissions/permission.go`),
//! built in one place for the API, the gateway and the tests.

/// `arn:lakefs:fs:::repository/<repo>`.
pub fn repository(repo: &str) -> String {
    format!("arn:lakefs:fs:::repository/{repo}")
}

/// `arn:lakefs:fs:::repository/<repo>/object/<path>` (whatever the ref).
pub fn object(repo: &str, path: &str) -> String {
    format!("arn:lakefs:fs:::repository/{repo}/object/{path}")
}

/// `arn:lakefs:fs:::repository/<repo>/branch/<branch>`.
pub fn branch(repo: &str, branch: &str) -> String {
    format!("arn:lakefs:fs:::repository/{repo}/branch/{branch}")
}

/// `arn:lakefs:fs:::repository/<repo>/tag/<tag>`.
pub fn tag(repo: &str, tag: &str) -> String {
    format!("arn:lakefs:fs:::repository/{repo}/tag/{tag}")
}

/// `arn:lakefs:fs:::namespace/<storage namespace>`.
pub fn namespace(ns: &str) -> String {
    format!("arn:lakefs:fs:::namespace/{ns}")
}

/// `arn:lakefs:auth:::user/<id>`.
pub fn user(id: &str) -> String {
    format!("arn:lakefs:auth:::user/{id}")
}

/// `arn:lakefs:auth:::group/<id>`.
pub fn group(id: &str) -> String {
    format!("arn:lakefs:auth:::group/{id}")
}

/// `arn:lakefs:auth:::policy/<id>`.
pub fn policy(id: &str) -> String {
    format!("arn:lakefs:auth:::policy/{id}")
}
