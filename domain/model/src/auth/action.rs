//! Action names (lakeFS's `pkg/permissions/actions.go`) as a closed type:
//! code that asks for a permission names an [`Action`] variant, so a typo is
//! a compile error rather than a permission that no policy ever matches.

use crate::InvalidValue;
use std::fmt;

macro_rules! actions {
    ($($variant:ident => $name:literal,)*) => {
        /// An action a request may need, e.g. `fs:ReadObject`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $(#[doc = concat!("`", $name, "`")] $variant,)*
        }

        /// Every action name, as lakeFS spells them.
        pub const ACTIONS: &[&str] = &[$($name,)*];

        impl Action {
            /// Every action.
            pub const ALL: &[Action] = &[$(Action::$variant,)*];

            /// The wire name, e.g. `fs:ReadObject`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }
        }
    };
}

actions! {
    ReadRepository => "fs:ReadRepository",
    CreateRepository => "fs:CreateRepository",
    UpdateRepository => "fs:UpdateRepository",
    AttachStorageNamespace => "fs:AttachStorageNamespace",
    ImportFromStorage => "fs:ImportFromStorage",
    ImportCancel => "fs:ImportCancel",
    DeleteRepository => "fs:DeleteRepository",
    ListRepositories => "fs:ListRepositories",
    ReadObject => "fs:ReadObject",
    WriteObject => "fs:WriteObject",
    DeleteObject => "fs:DeleteObject",
    ListObjects => "fs:ListObjects",
    CreateCommit => "fs:CreateCommit",
    ReadCommit => "fs:ReadCommit",
    ListCommits => "fs:ListCommits",
    CreateBranch => "fs:CreateBranch",
    DeleteBranch => "fs:DeleteBranch",
    ReadBranch => "fs:ReadBranch",
    RevertBranch => "fs:RevertBranch",
    ListBranches => "fs:ListBranches",
    CreateTag => "fs:CreateTag",
    DeleteTag => "fs:DeleteTag",
    ReadTag => "fs:ReadTag",
    ListTags => "fs:ListTags",
    ReadConfig => "fs:ReadConfig",
    ReadUser => "auth:ReadUser",
    CreateUser => "auth:CreateUser",
    DeleteUser => "auth:DeleteUser",
    ListUsers => "auth:ListUsers",
    ReadGroup => "auth:ReadGroup",
    CreateGroup => "auth:CreateGroup",
    DeleteGroup => "auth:DeleteGroup",
    ListGroups => "auth:ListGroups",
    AddGroupMember => "auth:AddGroupMember",
    RemoveGroupMember => "auth:RemoveGroupMember",
    ReadPolicy => "auth:ReadPolicy",
    CreatePolicy => "auth:CreatePolicy",
    UpdatePolicy => "auth:UpdatePolicy",
    DeletePolicy => "auth:DeletePolicy",
    ListPolicies => "auth:ListPolicies",
    AttachPolicy => "auth:AttachPolicy",
    DetachPolicy => "auth:DetachPolicy",
    ReadCredentials => "auth:ReadCredentials",
    CreateCredentials => "auth:CreateCredentials",
    DeleteCredentials => "auth:DeleteCredentials",
    ListCredentials => "auth:ListCredentials",
    CreateUserExternalPrincipal => "auth:CreateUserExternalPrincipal",
    DeleteUserExternalPrincipal => "auth:DeleteUserExternalPrincipal",
    ReadExternalPrincipal => "auth:ReadExternalPrincipal",
    ReadAction => "ci:ReadAction",
    PrepareGarbageCollectionCommits => "retention:PrepareGarbageCollectionCommits",
    GetGarbageCollectionRules => "retention:GetGarbageCollectionRules",
    SetGarbageCollectionRules => "retention:SetGarbageCollectionRules",
    PrepareGarbageCollectionUncommitted => "retention:PrepareGarbageCollectionUncommitted",
    RunGarbageCollection => "retention:RunGarbageCollection",
    GetBranchProtectionRules => "branches:GetBranchProtectionRules",
    SetBranchProtectionRules => "branches:SetBranchProtectionRules",
    ReadPullRequest => "pr:ReadPullRequest",
    WritePullRequest => "pr:WritePullRequest",
    ListPullRequests => "pr:ListPullRequests",
    ListNamespaces => "catalog:ListNamespaces",
    GetNamespace => "catalog:GetNamespace",
    CreateNamespace => "catalog:CreateNamespace",
    UpdateNamespace => "catalog:UpdateNamespace",
    DeleteNamespace => "catalog:DeleteNamespace",
    ListTables => "catalog:ListTables",
    ReadTable => "catalog:ReadTable",
    CreateTable => "catalog:CreateTable",
    UpdateTable => "catalog:UpdateTable",
    DeleteTable => "catalog:DeleteTable",
    ListViews => "catalog:ListViews",
    ReadView => "catalog:ReadView",
    CreateView => "catalog:CreateView",
    UpdateView => "catalog:UpdateView",
    DeleteView => "catalog:DeleteView",
}

impl Action {
    /// The action named `name` (no wildcards); unknown names are refused.
    pub fn parse(name: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| InvalidValue::new("action", name, "is not a known action"))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_unknown_ones_are_refused() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()).unwrap(), *action);
        }
        assert_eq!(Action::ALL.len(), ACTIONS.len());
        assert!(Action::parse("fs:ReadObjcet").is_err());
        assert!(Action::parse("fs:*").is_err());
    }
}
