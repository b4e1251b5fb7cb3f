//! The API's routes as a tree of scopes, so that a request is matched
//! against the few patterns of each level on its way down rather than
//! against every pattern in turn (each dynamic pattern is a regex match:
//! with about a hundred of them, routing cost more than authentication).
//!
//! Paths that share their first two segments (`/repositories/{repository}`,
//! `/auth/users`, then `/branches/{branch}` below that, ...) are grouped
//! under a scope of those segments, recursively; a path equal to its
//! group's head is that scope's root resource. Groups and lone paths keep
//! the order in which their first path was declared. Each resource's
//! pattern, as the router reports it (`match_pattern`), is the declared
//! path whole, so the operation guard finds its operation as before.

use actix_web::dev::HttpServiceFactory;
use actix_web::{web, Scope};

/// The first two segments of `rel` (`/a/b` of `/a/b/c`), if it has two.
fn head(rel: &str) -> Option<&str> {
    let mut slashes = rel.match_indices('/').map(|(i, _)| i);
    let (first, second) = (slashes.next()?, slashes.next()?);
    if first != 0 || second == 1 {
        return None;
    }
    let end = slashes.next().unwrap_or(rel.len());
    (end > second + 1).then(|| &rel[..end])
}

/// Whether some request path matches both heads: segment by segment, equal
/// or a `{parameter}` on either side.
fn overlap(a: &str, b: &str) -> bool {
    let param = |s: &str| s.starts_with('{');
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('/').collect(), b.split('/').collect());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || param(x) || param(y))
}

/// Adds `paths` (whole paths under the API prefix, each starting with
/// `at`) to `scope`, whose own pattern ends with `at`: groups of two or
/// more as nested scopes, the others as resources made by `make(path,
/// relative)`.
pub(crate) fn nest<F, R>(mut scope: Scope, at: &str, paths: &[&'static str], make: &F) -> Scope
where
    F: Fn(&'static str, &str) -> R,
    R: HttpServiceFactory + 'static,
{
    let rel = |p: &'static str| &p[at.len()..];
    let mut groups: Vec<(Option<&str>, Vec<&'static str>)> = Vec::new();
    for &path in paths {
        let key = head(rel(path));
        match groups.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
            Some((_, members)) => members.push(path),
            None => groups.push((key, vec![path])),
        }
    }
    let keys: Vec<Option<&str>> = groups.iter().map(|(k, _)| *k).collect();
    for (key, members) in groups {
        // A head that another head's requests could match too (`{ref}`
        // and `{leftRef}`, or `{ref}` and `dump`) is no scope: a scope takes
        // every request its head matches, and the other group's would be
        // lost in it.
        let alone = key.is_some_and(|k| keys.iter().flatten().any(|o| *o != k && overlap(k, o)));
        match key {
            Some(key) if members.len() > 1 && !alone => {
                let below = format!("{at}{key}");
                // A nested scope's own default would be the app's (the web
                // UI), not the API's: requests under a head that match no
                // resource get the API's answer (401, 404 or 501).
                let inner = web::scope(key).default_service(web::to(super::fallback));
                let inner = nest(inner, &below, &members, make);
                scope = scope.service(inner);
            }
            _ => {
                for path in members {
                    scope = scope.service(make(path, rel(path)));
                }
            }
        }
    }
    scope
}

#[cfg(test)]
mod tests {
    use super::head;

    #[test]
    fn heads_are_the_first_two_segments() {
        assert_eq!(head("/a/b/c/d"), Some("/a/b"));
        assert_eq!(head("/a/{b}"), Some("/a/{b}"));
        assert_eq!(head("/a"), None);
        assert_eq!(head(""), None);
        assert_eq!(head("//b"), None);
        assert_eq!(head("/a/"), None);
    }

    #[test]
    fn heads_overlap_where_a_parameter_meets_anything() {
        use super::overlap;
        assert!(overlap("/refs/{ref}", "/refs/{leftRef}"));
        assert!(overlap("/refs/{ref}", "/refs/dump"));
        assert!(overlap("/{a}/x", "/b/x"));
        assert!(!overlap("/refs/dump", "/refs/restore"));
        assert!(!overlap("/auth/users", "/auth/groups"));
        assert!(!overlap("/{a}/x", "/b/y"));
    }
}
