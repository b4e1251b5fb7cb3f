//! The table of REST operations for the RBAC test (`tests/blackbox/rbac_api.rs`):
//! each with a request and what it needs in terms of the built-in groups.

use reqwest::Method;

/// What an operation needs, in terms of the built-in groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// No credentials at all.
    Public,
    /// Any authenticated user.
    Any,
    /// Viewers and up.
    Read,
    /// Developers and up.
    Write,
    /// Admins only (among these users).
    Admin,
    /// Any user, on its own credentials.
    OwnCredentials,
}

pub struct Case {
    pub id: &'static str,
    pub method: Method,
    /// `{repo}`, `{self}`, `{selfkey}`, `{commit}` and `{role}` are filled in.
    pub path: &'static str,
    pub body: Option<&'static str>,
    pub need: Need,
}

pub(super) fn case(
    id: &'static str,
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    need: Need,
) -> Case {
    Case {
        id,
        method,
        path,
        body,
        need,
    }
}

/// In order: reads, then writes, then deletions (so each finds what it needs).
pub fn cases() -> Vec<Case> {
    use Method as M;
    use Need::*;
    let mut all = vec![
        case("healthCheck", M::GET, "/healthcheck", None, Public),
        case("getSetupState", M::GET, "/setup_lakefs", None, Public),
        case(
            "setup",
            M::POST,
            "/setup_lakefs",
            Some(r#"{"username":"intruder"}"#),
            Public,
        ),
        case(
            "setupCommPrefs",
            M::POST,
            "/setup_comm_prefs",
            Some(r#"{"email":"a@b.c","featureUpdates":false,"securityUpdates":false}"#),
            Public,
        ),
        case(
            "login",
            M::POST,
            "/auth/login",
            Some(
                r#"{"access_key_id":"AKIAIOSFOLQUICKSTART","secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}"#,
            ),
            Public,
        ),
        case(
            "getAuthCapabilities",
            M::GET,
            "/auth/capabilities",
            None,
            Public,
        ),
        case("getConfig", M::GET, "/config", None, Any),
        case("getLakeFSVersion", M::GET, "/config/version", None, Any),
        case("getCurrentUser", M::GET, "/user", None, Any),
        case(
            "getGarbageCollectionConfig",
            M::GET,
            "/config/garbage-collection",
            None,
            Any,
        ),
        case(
            "getUsageReportSummary",
            M::GET,
            "/usage-report/summary",
            None,
            Any,
        ),
        case(
            "postStatsEvents",
            M::POST,
            "/statistics",
            Some(r#"{"events":[{"class":"ui","name":"viewed","count":1}]}"#),
            Any,
        ),
        case("getStorageConfig", M::GET, "/config/storage", None, Read),
        case("listRepositories", M::GET, "/repositories", None, Read),
        case("getRepository", M::GET, "/repositories/{repo}", None, Read),
        case(
            "getRepositoryMetadata",
            M::GET,
            "/repositories/{repo}/metadata",
            None,
            Read,
        ),
        case(
            "getBranchProtectionRules",
            M::GET,
            "/repositories/{repo}/settings/branch_protection",
            None,
            Write,
        ),
        case(
            "internalGetBranchProtectionRules",
            M::GET,
            "/repositories/{repo}/branch_protection",
            None,
            Write,
        ),
        case(
            "createBranchProtectionRulePreflight",
            M::GET,
            "/repositories/{repo}/branch_protection/set_allowed",
            None,
            Admin,
        ),
        case(
            "listRepositoryRuns",
            M::GET,
            "/repositories/{repo}/actions/runs",
            None,
            Write,
        ),
        case(
            "getRun",
            M::GET,
            "/repositories/{repo}/actions/runs/nosuchrun",
            None,
            Write,
        ),
        case(
            "listRunHooks",
            M::GET,
            "/repositories/{repo}/actions/runs/nosuchrun/hooks",
            None,
            Write,
        ),
        case(
            "getRunHookOutput",
            M::GET,
            "/repositories/{repo}/actions/runs/nosuchrun/hooks/0000_0000/output",
            None,
            Write,
        ),
        case(
            "listGarbageCollectionRuns",
            M::GET,
            "/repositories/{repo}/gc/runs",
            None,
            Write,
        ),
        case(
            "getGarbageCollectionRun",
            M::GET,
            "/repositories/{repo}/gc/runs/001nosuchrun",
            None,
            Write,
        ),
        case(
            "listTreeCompactions",
            M::GET,
            "/repositories/{repo}/trees/compactions",
            None,
            Read,
        ),
        case(
            "getTreeCompaction",
            M::GET,
            "/repositories/{repo}/trees/compactions/001nosuchjob",
            None,
            Read,
        ),
        case(
            "getGCRules",
            M::GET,
            "/repositories/{repo}/settings/gc_rules",
            None,
            Write,
        ),
        case(
            "internalGetGarbageCollectionRules",
            M::GET,
            "/repositories/{repo}/gc/rules",
            None,
            Write,
        ),
        case(
            "setGarbageCollectionRulesPreflight",
            M::GET,
            "/repositories/{repo}/gc/rules/set_allowed",
            None,
            Admin,
        ),
        case(
            "listBranches",
            M::GET,
            "/repositories/{repo}/branches",
            None,
            Read,
        ),
        case(
            "getBranch",
            M::GET,
            "/repositories/{repo}/branches/main",
            None,
            Read,
        ),
        case(
            "diffBranch",
            M::GET,
            "/repositories/{repo}/branches/main/diff",
            None,
            Read,
        ),
        case(
            "getCommit",
            M::GET,
            "/repositories/{repo}/commits/{commit}",
            None,
            Read,
        ),
        case(
            "logCommits",
            M::GET,
            "/repositories/{repo}/refs/main/commits",
            None,
            Read,
        ),
        case(
            "findMergeBase",
            M::GET,
            "/repositories/{repo}/refs/dev/merge/main",
            None,
            Read,
        ),
        case(
            "diffRefs",
            M::GET,
            "/repositories/{repo}/refs/main/diff/dev",
            None,
            Read,
        ),
        case("listTags", M::GET, "/repositories/{repo}/tags", None, Read),
        case(
            "getTag",
            M::GET,
            "/repositories/{repo}/tags/doomed-tag",
            None,
            Read,
        ),
        case(
            "uploadObjectPreflight",
            M::GET,
            "/repositories/{repo}/branches/main/objects/stage_allowed?path=x.txt",
            None,
            Write,
        ),
        case(
            "getMetaRange",
            M::GET,
            "/repositories/{repo}/metadata/meta_range/{commit}",
            None,
            Read,
        ),
        case(
            "getRange",
            M::GET,
            "/repositories/{repo}/metadata/range/{commit}",
            None,
            Read,
        ),
        case(
            "getMetadataObject",
            M::GET,
            "/repositories/{repo}/metadata/object/range/{commit}",
            None,
            Read,
        ),
        case(
            "listPullRequests",
            M::GET,
            "/repositories/{repo}/pulls",
            None,
            Write,
        ),
        case(
            "getPullRequest",
            M::GET,
            "/repositories/{repo}/pulls/0000000000aaaaaaaaaa",
            None,
            Write,
        ),
        case(
            "getObjectArchive",
            M::POST,
            "/repositories/{repo}/refs/main/objects/archive",
            Some(r#"{"paths":["data/a.txt"]}"#),
            Read,
        ),
        case(
            "getObject",
            M::GET,
            "/repositories/{repo}/refs/main/objects?path=data/a.txt",
            None,
            Read,
        ),
        case(
            "headObject",
            M::HEAD,
            "/repositories/{repo}/refs/main/objects?path=data/a.txt",
            None,
            Read,
        ),
        case(
            "statObject",
            M::GET,
            "/repositories/{repo}/refs/main/objects/stat?path=data/a.txt",
            None,
            Read,
        ),
        case(
            "listObjects",
            M::GET,
            "/repositories/{repo}/refs/main/objects/ls",
            None,
            Read,
        ),
        case(
            "getUnderlyingProperties",
            M::GET,
            "/repositories/{repo}/refs/main/objects/underlyingProperties?path=data/a.txt",
            None,
            Read,
        ),
        case("listUsers", M::GET, "/auth/users", None, Admin),
        case("getUser", M::GET, "/auth/users/spare", None, Admin),
        case(
            "listUserGroups",
            M::GET,
            "/auth/users/spare/groups",
            None,
            Admin,
        ),
        case(
            "listUserPolicies",
            M::GET,
            "/auth/users/spare/policies?effective=true",
            None,
            Admin,
        ),
        case("listGroups", M::GET, "/auth/groups", None, Admin),
        case("getGroup", M::GET, "/auth/groups/Viewers", None, Admin),
        case(
            "listGroupMembers",
            M::GET,
            "/auth/groups/Viewers/members",
            None,
            Admin,
        ),
        case(
            "listGroupPolicies",
            M::GET,
            "/auth/groups/Viewers/policies",
            None,
            Admin,
        ),
        case("listPolicies", M::GET, "/auth/policies", None, Admin),
        case("getPolicy", M::GET, "/auth/policies/FSReadAll", None, Admin),
        case(
            "listUserCredentials",
            M::GET,
            "/auth/users/{self}/credentials",
            None,
            OwnCredentials,
        ),
        case(
            "listUserCredentials",
            M::GET,
            "/auth/users/spare/credentials",
            None,
            Admin,
        ),
        case(
            "getCredentials",
            M::GET,
            "/auth/users/{self}/credentials/{selfkey}",
            None,
            OwnCredentials,
        ),
        case(
            "createCredentials",
            M::POST,
            "/auth/users/{self}/credentials",
            None,
            OwnCredentials,
        ),
        case(
            "createCredentials",
            M::POST,
            "/auth/users/spare/credentials",
            None,
            Admin,
        ),
    ];
    all.extend(super::rbac_cases_writes::writes_then_deletions());
    all
}

pub fn allowed(need: Need, role: &str) -> bool {
    match role {
        "quickstart" => true,
        "developer" => matches!(
            need,
            Need::Public | Need::Any | Need::Read | Need::Write | Need::OwnCredentials
        ),
        "viewer" => matches!(
            need,
            Need::Public | Need::Any | Need::Read | Need::OwnCredentials
        ),
        _ => need == Need::Public,
    }
}
