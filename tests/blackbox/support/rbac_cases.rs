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

fn case(
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
    vec![
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
        // Writes.
        case(
            "uploadObject",
            M::POST,
            "/repositories/{repo}/branches/main/objects?path=data/up-{role}.txt",
            Some(r#""raw""#),
            Write,
        ),
        case(
            "copyObject",
            M::POST,
            "/repositories/{repo}/branches/main/objects/copy?dest_path=data/copy-{role}.txt",
            Some(r#"{"src_path":"data/a.txt"}"#),
            Write,
        ),
        case(
            "updateObjectUserMetadata",
            M::PUT,
            "/repositories/{repo}/branches/main/objects/stat/user_metadata?path=data/a.txt",
            Some(r#"{"set":{"k":"v"}}"#),
            Write,
        ),
        case(
            "getPhysicalAddress",
            M::GET,
            "/repositories/{repo}/branches/main/staging/backing?path=data/linked.txt",
            None,
            Write,
        ),
        case(
            "linkPhysicalAddress",
            M::PUT,
            "/repositories/{repo}/branches/main/staging/backing?path=data/linked.txt",
            Some(
                r#"{"staging":{"physical_address":"local://nowhere/x"},"checksum":"0","size_bytes":1}"#,
            ),
            Write,
        ),
        case(
            "commit",
            M::POST,
            "/repositories/{repo}/branches/main/commits",
            Some(r#"{"message":"by {role}"}"#),
            Write,
        ),
        case(
            "createBranch",
            M::POST,
            "/repositories/{repo}/branches",
            Some(r#"{"name":"b-{role}","source":"main"}"#),
            Write,
        ),
        case(
            "createTag",
            M::POST,
            "/repositories/{repo}/tags",
            Some(r#"{"id":"t-{role}","ref":"main"}"#),
            Write,
        ),
        case(
            "mergeIntoBranch",
            M::POST,
            "/repositories/{repo}/refs/main/merge/dev",
            Some(r#"{}"#),
            Write,
        ),
        case(
            "cherryPick",
            M::POST,
            "/repositories/{repo}/branches/dev/cherry-pick",
            Some(r#"{"ref":"{commit}"}"#),
            Write,
        ),
        case(
            "revertBranch",
            M::POST,
            "/repositories/{repo}/branches/dev/revert",
            Some(r#"{"ref":"{commit}","parent_number":0}"#),
            Write,
        ),
        case(
            "resetBranch",
            M::PUT,
            "/repositories/{repo}/branches/main",
            Some(r#"{"type":"reset"}"#),
            Write,
        ),
        case(
            "hardResetBranch",
            M::PUT,
            "/repositories/{repo}/branches/dev/hard_reset?ref=main",
            None,
            Write,
        ),
        case(
            "setBranchProtectionRules",
            M::PUT,
            "/repositories/{repo}/settings/branch_protection",
            Some(r#"[]"#),
            Admin,
        ),
        case(
            "setRepositoryMetadata",
            M::POST,
            "/repositories/{repo}/metadata",
            Some(r#"{"metadata":{"team":"data"}}"#),
            Write,
        ),
        case(
            "createRepository",
            M::POST,
            "/repositories",
            Some(r#"{"name":"new-{role}","storage_namespace":"local://new-{role}"}"#),
            Admin,
        ),
        case(
            "createUser",
            M::POST,
            "/auth/users",
            Some(r#"{"id":"u-{role}"}"#),
            Admin,
        ),
        case(
            "createGroup",
            M::POST,
            "/auth/groups",
            Some(r#"{"id":"g-{role}"}"#),
            Admin,
        ),
        case(
            "createPolicy",
            M::POST,
            "/auth/policies",
            Some(
                r#"{"id":"p-{role}","statement":[{"effect":"allow","action":["fs:ReadObject"],"resource":"*"}]}"#,
            ),
            Admin,
        ),
        case(
            "updatePolicy",
            M::PUT,
            "/auth/policies/doomed-policy",
            Some(
                r#"{"id":"doomed-policy","statement":[{"effect":"allow","action":["fs:ListObjects"],"resource":"*"}]}"#,
            ),
            Admin,
        ),
        case(
            "addGroupMembership",
            M::PUT,
            "/auth/groups/spare-group/members/spare",
            None,
            Admin,
        ),
        case(
            "attachPolicyToUser",
            M::PUT,
            "/auth/users/spare/policies/FSReadAll",
            None,
            Admin,
        ),
        case(
            "attachPolicyToGroup",
            M::PUT,
            "/auth/groups/spare-group/policies/FSReadAll",
            None,
            Admin,
        ),
        // Deletions.
        case(
            "detachPolicyFromGroup",
            M::DELETE,
            "/auth/groups/spare-group/policies/FSReadAll",
            None,
            Admin,
        ),
        case(
            "detachPolicyFromUser",
            M::DELETE,
            "/auth/users/spare/policies/FSReadAll",
            None,
            Admin,
        ),
        case(
            "deleteGroupMembership",
            M::DELETE,
            "/auth/groups/spare-group/members/spare",
            None,
            Admin,
        ),
        case(
            "deleteCredentials",
            M::DELETE,
            "/auth/users/{self}/credentials/{selfkey}",
            None,
            OwnCredentials,
        ),
        case(
            "deletePolicy",
            M::DELETE,
            "/auth/policies/doomed-policy",
            None,
            Admin,
        ),
        case(
            "deleteGroup",
            M::DELETE,
            "/auth/groups/doomed-group",
            None,
            Admin,
        ),
        case(
            "deleteUser",
            M::DELETE,
            "/auth/users/doomed-user",
            None,
            Admin,
        ),
        case(
            "deleteObject",
            M::DELETE,
            "/repositories/{repo}/branches/main/objects?path=data/up-{role}.txt",
            None,
            Write,
        ),
        case(
            "deleteObjects",
            M::POST,
            "/repositories/{repo}/branches/main/objects/delete",
            Some(r#"{"paths":["data/copy-{role}.txt"]}"#),
            Write,
        ),
        case(
            "deleteTag",
            M::DELETE,
            "/repositories/{repo}/tags/doomed-tag",
            None,
            Write,
        ),
        case(
            "deleteBranch",
            M::DELETE,
            "/repositories/{repo}/branches/doomed-branch",
            None,
            Write,
        ),
        case(
            "deleteRepositoryMetadata",
            M::DELETE,
            "/repositories/{repo}/metadata",
            Some(r#"{"keys":["team"]}"#),
            Write,
        ),
        case(
            "deleteRepository",
            M::DELETE,
            "/repositories/{repo}",
            None,
            Admin,
        ),
    ]
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
