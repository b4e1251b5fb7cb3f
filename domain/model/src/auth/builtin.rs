//! The groups and policies that setup creates (lakeFS's `pkg/auth/setup`,
//! reference §5.3).

use super::ids::{GroupId, PolicyId};
use super::policy::{Effect, Policy, Statement};
use crate::{InvalidValue, Timestamp};

/// The group of the admin that setup creates.
pub const ADMINS_GROUP: &str = "Admins";

const OWN_USER: &str = "arn:lakefs:auth:::user/${user}";

/// (policy id, actions, resource).
const POLICIES: &[(&str, &[&str], &str)] = &[
    ("FSFullAccess", &["fs:*"], "*"),
    (
        "FSReadWriteAll",
        &[
            "fs:Read*",
            "fs:List*",
            "fs:WriteObject",
            "fs:DeleteObject",
            "fs:RevertBranch",
            "fs:CreateBranch",
            "fs:CreateTag",
            "fs:DeleteBranch",
            "fs:DeleteTag",
            "fs:CreateCommit",
        ],
        "*",
    ),
    ("FSReadAll", &["fs:List*", "fs:Read*"], "*"),
    (
        "RepoManagementFullAccess",
        &["ci:*", "retention:*", "branches:*", "pr:*", "fs:ReadConfig"],
        "*",
    ),
    (
        "RepoManagementReadAll",
        &[
            "ci:Read*",
            "retention:Get*",
            "branches:Get*",
            "pr:Read*",
            "pr:List*",
            "fs:ReadConfig",
        ],
        "*",
    ),
    ("PRReadWriteAll", &["pr:*"], "*"),
    (
        "CatalogReadAll",
        &[
            "catalog:ListNamespaces",
            "catalog:GetNamespace",
            "catalog:ListTables",
            "catalog:ReadTable",
            "catalog:ListViews",
            "catalog:ReadView",
        ],
        "*",
    ),
    ("CatalogReadWriteAll", &["catalog:*"], "*"),
    ("AuthFullAccess", &["auth:*"], "*"),
    (
        "AuthManageOwnCredentials",
        &[
            "auth:CreateCredentials",
            "auth:DeleteCredentials",
            "auth:ListCredentials",
            "auth:ReadCredentials",
        ],
        OWN_USER,
    ),
];

/// A group that setup creates, with the policies attached to it.
#[derive(Debug, Clone)]
pub struct BuiltinGroup {
    /// The group.
    pub id: GroupId,
    /// Its policies.
    pub policies: Vec<PolicyId>,
}

const GROUPS: &[(&str, &[&str])] = &[
    (
        ADMINS_GROUP,
        &[
            "FSFullAccess",
            "CatalogReadWriteAll",
            "AuthFullAccess",
            "RepoManagementFullAccess",
        ],
    ),
    (
        "SuperUsers",
        &[
            "FSFullAccess",
            "CatalogReadWriteAll",
            "AuthManageOwnCredentials",
            "RepoManagementReadAll",
        ],
    ),
    (
        "Developers",
        &[
            "FSReadWriteAll",
            "PRReadWriteAll",
            "CatalogReadWriteAll",
            "AuthManageOwnCredentials",
            "RepoManagementReadAll",
        ],
    ),
    (
        "Viewers",
        &["FSReadAll", "CatalogReadAll", "AuthManageOwnCredentials"],
    ),
];

/// The built-in policies, stamped `created`.
pub fn builtin_policies(created: Timestamp) -> Result<Vec<Policy>, InvalidValue> {
    POLICIES
        .iter()
        .map(|(id, actions, resource)| {
            let statement = Statement::new(
                Effect::Allow,
                actions.iter().map(|a| (*a).to_owned()).collect(),
                *resource,
            )?;
            Policy::new(PolicyId::new(*id)?, created, vec![statement])
        })
        .collect()
}

/// The built-in groups and their policies.
pub fn builtin_groups() -> Result<Vec<BuiltinGroup>, InvalidValue> {
    GROUPS
        .iter()
        .map(|(id, policies)| {
            Ok(BuiltinGroup {
                id: GroupId::new(*id)?,
                policies: policies
                    .iter()
                    .map(|p| PolicyId::new(*p))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{authorize, Action, Decision, Permission, UserId};

    fn group_policies(group: &str) -> Vec<Policy> {
        let all = builtin_policies(Timestamp::EPOCH).unwrap();
        let g = builtin_groups()
            .unwrap()
            .into_iter()
            .find(|g| g.id.as_str() == group)
            .unwrap();
        all.into_iter()
            .filter(|p| g.policies.contains(&p.id))
            .collect()
    }

    fn may(group: &str, action: &str, resource: &str) -> bool {
        let u = UserId::new("u").unwrap();
        authorize(
            &group_policies(group),
            &u,
            &[Permission::new(Action::parse(action).unwrap(), resource)],
        ) == Decision::Allowed
    }

    #[test]
    fn every_group_attachment_names_a_builtin_policy() {
        let ids: Vec<_> = builtin_policies(Timestamp::EPOCH)
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        for g in builtin_groups().unwrap() {
            for p in g.policies {
                assert!(ids.contains(&p), "{p}");
            }
        }
    }

    #[test]
    fn groups_grant_what_lakefs_documents() {
        let repo = "arn:lakefs:fs:::repository/r";
        let obj = "arn:lakefs:fs:::repository/r/object/a";
        assert!(may("Viewers", "fs:ReadObject", obj));
        assert!(!may("Viewers", "fs:WriteObject", obj));
        assert!(!may(
            "Viewers",
            "fs:CreateCommit",
            "arn:lakefs:fs:::repository/r/branch/main"
        ));
        assert!(may("Developers", "fs:WriteObject", obj));
        assert!(may("Developers", "fs:CreateCommit", repo));
        assert!(!may("Developers", "fs:CreateRepository", repo));
        assert!(!may(
            "Developers",
            "auth:CreateUser",
            "arn:lakefs:auth:::user/x"
        ));
        assert!(may(
            "Developers",
            "auth:CreateCredentials",
            "arn:lakefs:auth:::user/u"
        ));
        assert!(!may(
            "Developers",
            "auth:CreateCredentials",
            "arn:lakefs:auth:::user/other"
        ));
        assert!(may("SuperUsers", "fs:DeleteRepository", repo));
        assert!(!may("SuperUsers", "auth:ListUsers", "*"));
        assert!(may("Admins", "auth:CreateUser", "arn:lakefs:auth:::user/x"));
        assert!(may("Admins", "branches:SetBranchProtectionRules", repo));
    }
}
