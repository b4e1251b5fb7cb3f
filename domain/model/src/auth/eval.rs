//! Evaluation of a request's permissions against a user's policies: every
//! required permission must be allowed by some statement and denied by none
//! (deny overrides allow).

use super::action::Action;
use super::ids::UserId;
use super::policy::{Effect, Policy};
use crate::glob_match;

/// One thing a request needs: an action on a resource ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Permission {
    /// The action, e.g. `fs:ReadObject`.
    pub action: Action,
    /// The resource's ARN, e.g. `arn:lakefs:fs:::repository/r/object/a.csv`.
    pub resource: String,
}

impl Permission {
    /// `action` on `resource`.
    pub fn new(action: Action, resource: impl Into<String>) -> Self {
        Self {
            action,
            resource: resource.into(),
        }
    }
}

/// The outcome of an authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Every permission is allowed and none denied.
    Allowed,
    /// A statement denies one of the permissions.
    Denied,
    /// Some permission is allowed by no statement.
    NotAllowed,
}

impl Decision {
    /// Whether the request may go ahead.
    pub fn is_allowed(self) -> bool {
        self == Self::Allowed
    }
}

/// Whether `user`, holding `policies`, may do everything in `required`.
/// `${user}` in a statement's resource stands for the user's id.
pub fn authorize(policies: &[Policy], user: &UserId, required: &[Permission]) -> Decision {
    let mut all_allowed = true;
    for permission in required {
        let mut allowed = false;
        for statement in policies.iter().flat_map(|p| p.statements()) {
            let action_matches = statement
                .actions()
                .iter()
                .any(|a| glob_match(a, permission.action.as_str()));
            if !action_matches {
                continue;
            }
            let resource = statement.resource().replace("${user}", user.as_str());
            if !glob_match(&resource, &permission.resource) {
                continue;
            }
            match statement.effect() {
                Effect::Deny => return Decision::Denied,
                Effect::Allow => allowed = true,
            }
        }
        all_allowed &= allowed;
    }
    if all_allowed {
        Decision::Allowed
    } else {
        Decision::NotAllowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{PolicyId, Statement};
    use crate::Timestamp;

    fn policy(statements: &[(Effect, &[&str], &str)]) -> Policy {
        let statements = statements
            .iter()
            .map(|(e, a, r)| {
                Statement::new(*e, a.iter().map(|s| s.to_string()).collect(), *r).unwrap()
            })
            .collect();
        Policy::new(PolicyId::new("p").unwrap(), Timestamp::EPOCH, statements).unwrap()
    }

    fn user(s: &str) -> UserId {
        UserId::new(s).unwrap()
    }

    const REPO_A: &str = "arn:lakefs:fs:::repository/a";

    #[test]
    fn nothing_is_allowed_without_a_matching_statement() {
        let read = Permission::new(Action::ReadRepository, REPO_A);
        assert_eq!(
            authorize(&[], &user("u"), std::slice::from_ref(&read)),
            Decision::NotAllowed
        );
        let p = policy(&[(Effect::Allow, &["fs:ListRepositories"], "*")]);
        assert_eq!(authorize(&[p], &user("u"), &[read]), Decision::NotAllowed);
    }

    #[test]
    fn wildcards_match_actions_and_resources() {
        let p = policy(&[(
            Effect::Allow,
            &["fs:Read*"],
            "arn:lakefs:fs:::repository/a*",
        )]);
        let ok = Permission::new(Action::ReadObject, "arn:lakefs:fs:::repository/a/object/x");
        assert_eq!(
            authorize(std::slice::from_ref(&p), &user("u"), &[ok]),
            Decision::Allowed
        );
        let other = Permission::new(Action::ReadObject, "arn:lakefs:fs:::repository/b/object/x");
        assert_eq!(
            authorize(std::slice::from_ref(&p), &user("u"), &[other]),
            Decision::NotAllowed
        );
        let write = Permission::new(Action::WriteObject, "arn:lakefs:fs:::repository/a/object/x");
        assert_eq!(authorize(&[p], &user("u"), &[write]), Decision::NotAllowed);
        let q = policy(&[(Effect::Allow, &["fs:ReadTa?"], "*")]);
        let tag = Permission::new(Action::ReadTag, "arn:lakefs:fs:::repository/a/tag/v1");
        assert_eq!(authorize(&[q], &user("u"), &[tag]), Decision::Allowed);
    }

    #[test]
    fn deny_overrides_allow_in_any_policy() {
        let allow = policy(&[(Effect::Allow, &["fs:*"], "*")]);
        let deny = policy(&[(
            Effect::Deny,
            &["fs:*"],
            "arn:lakefs:fs:::repository/secret*",
        )]);
        let both = [allow, deny];
        let secret = Permission::new(Action::ReadRepository, "arn:lakefs:fs:::repository/secret");
        let open = Permission::new(Action::ReadRepository, REPO_A);
        assert_eq!(
            authorize(&both, &user("u"), std::slice::from_ref(&secret)),
            Decision::Denied
        );
        assert_eq!(
            authorize(&both, &user("u"), std::slice::from_ref(&open)),
            Decision::Allowed
        );
        assert_eq!(
            authorize(&both, &user("u"), &[open, secret]),
            Decision::Denied
        );
    }

    #[test]
    fn every_required_permission_must_be_allowed() {
        let p = policy(&[(Effect::Allow, &["fs:CreateRepository"], "*")]);
        let create = Permission::new(Action::CreateRepository, REPO_A);
        let attach = Permission::new(
            Action::AttachStorageNamespace,
            "arn:lakefs:fs:::namespace/s3://b",
        );
        assert_eq!(
            authorize(&[p], &user("u"), &[create, attach]),
            Decision::NotAllowed
        );
    }

    #[test]
    fn user_variable_is_the_callers_id() {
        let p = policy(&[(
            Effect::Allow,
            &["auth:ListCredentials"],
            "arn:lakefs:auth:::user/${user}",
        )]);
        let mine = Permission::new(Action::ListCredentials, "arn:lakefs:auth:::user/alice");
        assert_eq!(
            authorize(
                std::slice::from_ref(&p),
                &user("alice"),
                std::slice::from_ref(&mine)
            ),
            Decision::Allowed
        );
        assert_eq!(authorize(&[p], &user("bob"), &[mine]), Decision::NotAllowed);
    }

    #[test]
    fn literal_wildcard_characters_in_names_are_not_patterns() {
        let p = policy(&[(
            Effect::Allow,
            &["fs:ReadObject"],
            "arn:lakefs:fs:::repository/a/object/x*",
        )]);
        let starry = Permission::new(Action::ReadObject, "arn:lakefs:fs:::repository/a/object/*");
        assert_eq!(authorize(&[p], &user("u"), &[starry]), Decision::NotAllowed);
    }
}
