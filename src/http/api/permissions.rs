//! Every API operation with the permission it needs, in one table, and the
//! middleware that authenticates each request and checks that permission.

use super::auth::AuthState;
use super::error::ApiError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use tarn_model::auth::Permission;

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials.
    Public,
    /// Any authenticated user.
    Authenticated,
    /// An authenticated user allowed `action` on the resource template.
    Requires(&'static str, &'static str),
    /// An authenticated user; the handler checks permissions that depend on
    /// the request body or on each listed item.
    InHandler,
}

/// An operation of the API.
pub struct Operation {
    /// lakeFS's operationId.
    pub id: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path under `/api/v1`, with `{param}` segments.
    pub path: &'static str,
    /// Who may call it. Resource templates take `{repository}`, `{branch}`,
    /// ... from the path and `{path}` from the `path` query parameter.
    pub access: Access,
}

const REPO: &str = "arn:lakefs:fs:::repository/{repository}";
const BRANCH: &str = "arn:lakefs:fs:::repository/{repository}/branch/{branch}";
const REF_BRANCH: &str = "arn:lakefs:fs:::repository/{repository}/branch/{ref}";
const DEST_BRANCH: &str = "arn:lakefs:fs:::repository/{repository}/branch/{destinationBranch}";
const TAG: &str = "arn:lakefs:fs:::repository/{repository}/tag/{tag}";
const OBJECT: &str = "arn:lakefs:fs:::repository/{repository}/object/{path}";
const USER: &str = "arn:lakefs:auth:::user/{userId}";
const GROUP: &str = "arn:lakefs:auth:::group/{groupId}";
const POLICY: &str = "arn:lakefs:auth:::policy/{policyId}";
const ANY: &str = "*";

use Access::{Authenticated, InHandler, Public, Requires};

macro_rules! ops {
    ($($id:literal $method:ident $path:literal => $access:expr;)*) => {
        /// Every operation Tarn serves.
        pub static OPERATIONS: std::sync::LazyLock<Vec<Operation>> = std::sync::LazyLock::new(|| vec![
            $(Operation { id: $id, method: Method::$method, path: $path, access: $access },)*
        ]);
    };
}

ops! {
    "healthCheck" GET "/healthcheck" => Public;
    "getSetupState" GET "/setup_lakefs" => Public;
    "setup" POST "/setup_lakefs" => Public;
    "setupCommPrefs" POST "/setup_comm_prefs" => Public;
    "login" POST "/auth/login" => Public;
    "getAuthCapabilities" GET "/auth/capabilities" => Public;
    "getConfig" GET "/config" => Authenticated;
    "getLakeFSVersion" GET "/config/version" => Authenticated;
    "getStorageConfig" GET "/config/storage" => Requires("fs:ReadConfig", ANY);
    "getCurrentUser" GET "/user" => Authenticated;
    "listRepositories" GET "/repositories" => Requires("fs:ListRepositories", ANY);
    "createRepository" POST "/repositories" => InHandler;
    "getRepository" GET "/repositories/{repository}" => Requires("fs:ReadRepository", REPO);
    "deleteRepository" DELETE "/repositories/{repository}" => Requires("fs:DeleteRepository", REPO);
    "getBranchProtectionRules" GET "/repositories/{repository}/settings/branch_protection" => Requires("branches:GetBranchProtectionRules", REPO);
    "setBranchProtectionRules" PUT "/repositories/{repository}/settings/branch_protection" => Requires("branches:SetBranchProtectionRules", REPO);
    "getRepositoryMetadata" GET "/repositories/{repository}/metadata" => Requires("fs:ReadRepository", REPO);
    "listBranches" GET "/repositories/{repository}/branches" => Requires("fs:ListBranches", REPO);
    "createBranch" POST "/repositories/{repository}/branches" => InHandler;
    "getBranch" GET "/repositories/{repository}/branches/{branch}" => Requires("fs:ReadBranch", BRANCH);
    "deleteBranch" DELETE "/repositories/{repository}/branches/{branch}" => Requires("fs:DeleteBranch", BRANCH);
    "resetBranch" PUT "/repositories/{repository}/branches/{branch}" => Requires("fs:RevertBranch", BRANCH);
    "hardResetBranch" PUT "/repositories/{repository}/branches/{branch}/hard_reset" => Requires("fs:RevertBranch", BRANCH);
    "revertBranch" POST "/repositories/{repository}/branches/{branch}/revert" => Requires("fs:RevertBranch", BRANCH);
    "cherryPick" POST "/repositories/{repository}/branches/{branch}/cherry-pick" => Requires("fs:CreateCommit", BRANCH);
    "diffBranch" GET "/repositories/{repository}/branches/{branch}/diff" => Requires("fs:ListObjects", REPO);
    "commit" POST "/repositories/{repository}/branches/{branch}/commits" => Requires("fs:CreateCommit", BRANCH);
    "getCommit" GET "/repositories/{repository}/commits/{commitId}" => Requires("fs:ReadCommit", REPO);
    "logCommits" GET "/repositories/{repository}/refs/{ref}/commits" => Requires("fs:ReadBranch", REF_BRANCH);
    "mergeIntoBranch" POST "/repositories/{repository}/refs/{sourceRef}/merge/{destinationBranch}" => Requires("fs:CreateCommit", DEST_BRANCH);
    "findMergeBase" GET "/repositories/{repository}/refs/{sourceRef}/merge/{destinationBranch}" => Requires("fs:ListCommits", REPO);
    "diffRefs" GET "/repositories/{repository}/refs/{leftRef}/diff/{rightRef}" => Requires("fs:ListObjects", REPO);
    "listTags" GET "/repositories/{repository}/tags" => Requires("fs:ListTags", REPO);
    "createTag" POST "/repositories/{repository}/tags" => InHandler;
    "getTag" GET "/repositories/{repository}/tags/{tag}" => Requires("fs:ReadTag", TAG);
    "deleteTag" DELETE "/repositories/{repository}/tags/{tag}" => Requires("fs:DeleteTag", TAG);
    "getObject" GET "/repositories/{repository}/refs/{ref}/objects" => Requires("fs:ReadObject", OBJECT);
    "headObject" HEAD "/repositories/{repository}/refs/{ref}/objects" => Requires("fs:ReadObject", OBJECT);
    "statObject" GET "/repositories/{repository}/refs/{ref}/objects/stat" => Requires("fs:ReadObject", OBJECT);
    "listObjects" GET "/repositories/{repository}/refs/{ref}/objects/ls" => Requires("fs:ListObjects", REPO);
    "getUnderlyingProperties" GET "/repositories/{repository}/refs/{ref}/objects/underlyingProperties" => Requires("fs:ReadObject", OBJECT);
    "uploadObject" POST "/repositories/{repository}/branches/{branch}/objects" => Requires("fs:WriteObject", OBJECT);
    "deleteObject" DELETE "/repositories/{repository}/branches/{branch}/objects" => Requires("fs:DeleteObject", OBJECT);
    "deleteObjects" POST "/repositories/{repository}/branches/{branch}/objects/delete" => InHandler;
    "copyObject" POST "/repositories/{repository}/branches/{branch}/objects/copy" => InHandler;
    "updateObjectUserMetadata" PUT "/repositories/{repository}/branches/{branch}/objects/stat/user_metadata" => Requires("fs:WriteObject", OBJECT);
    "getPhysicalAddress" GET "/repositories/{repository}/branches/{branch}/staging/backing" => Requires("fs:WriteObject", OBJECT);
    "linkPhysicalAddress" PUT "/repositories/{repository}/branches/{branch}/staging/backing" => Requires("fs:WriteObject", OBJECT);
    "listUsers" GET "/auth/users" => Requires("auth:ListUsers", ANY);
    "createUser" POST "/auth/users" => InHandler;
    "getUser" GET "/auth/users/{userId}" => Requires("auth:ReadUser", USER);
    "deleteUser" DELETE "/auth/users/{userId}" => Requires("auth:DeleteUser", USER);
    "listUserGroups" GET "/auth/users/{userId}/groups" => Requires("auth:ReadUser", USER);
    "listUserPolicies" GET "/auth/users/{userId}/policies" => Requires("auth:ReadUser", USER);
    "attachPolicyToUser" PUT "/auth/users/{userId}/policies/{policyId}" => Requires("auth:AttachPolicy", USER);
    "detachPolicyFromUser" DELETE "/auth/users/{userId}/policies/{policyId}" => Requires("auth:DetachPolicy", USER);
    "listUserCredentials" GET "/auth/users/{userId}/credentials" => Requires("auth:ListCredentials", USER);
    "createCredentials" POST "/auth/users/{userId}/credentials" => Requires("auth:CreateCredentials", USER);
    "getCredentials" GET "/auth/users/{userId}/credentials/{accessKeyId}" => Requires("auth:ReadCredentials", USER);
    "deleteCredentials" DELETE "/auth/users/{userId}/credentials/{accessKeyId}" => Requires("auth:DeleteCredentials", USER);
    "listGroups" GET "/auth/groups" => Requires("auth:ListGroups", ANY);
    "createGroup" POST "/auth/groups" => InHandler;
    "getGroup" GET "/auth/groups/{groupId}" => Requires("auth:ReadGroup", GROUP);
    "deleteGroup" DELETE "/auth/groups/{groupId}" => Requires("auth:DeleteGroup", GROUP);
    "listGroupMembers" GET "/auth/groups/{groupId}/members" => Requires("auth:ReadGroup", GROUP);
    "addGroupMembership" PUT "/auth/groups/{groupId}/members/{userId}" => Requires("auth:AddGroupMember", GROUP);
    "deleteGroupMembership" DELETE "/auth/groups/{groupId}/members/{userId}" => Requires("auth:RemoveGroupMember", GROUP);
    "listGroupPolicies" GET "/auth/groups/{groupId}/policies" => Requires("auth:ReadGroup", GROUP);
    "attachPolicyToGroup" PUT "/auth/groups/{groupId}/policies/{policyId}" => Requires("auth:AttachPolicy", GROUP);
    "detachPolicyFromGroup" DELETE "/auth/groups/{groupId}/policies/{policyId}" => Requires("auth:DetachPolicy", GROUP);
    "listPolicies" GET "/auth/policies" => Requires("auth:ListPolicies", ANY);
    "createPolicy" POST "/auth/policies" => InHandler;
    "getPolicy" GET "/auth/policies/{policyId}" => Requires("auth:ReadPolicy", POLICY);
    "updatePolicy" PUT "/auth/policies/{policyId}" => Requires("auth:UpdatePolicy", POLICY);
    "deletePolicy" DELETE "/auth/policies/{policyId}" => Requires("auth:DeletePolicy", POLICY);
}

impl Operation {
    /// The permission, its template filled in one pass by `param` (a path
    /// parameter by name, or `path` for the query's object path); a value
    /// is never re-read as a template.
    pub fn permission_with(&self, param: impl Fn(&str) -> Option<String>) -> Option<Permission> {
        let Access::Requires(action, template) = self.access else {
            return None;
        };
        let mut resource = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            resource.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            let name = &rest[open + 1..open + close];
            resource.push_str(&param(name).unwrap_or_default());
            rest = &rest[open + close + 1..];
        }
        resource.push_str(rest);
        Some(Permission::new(action, resource))
    }

    /// The permission for a request to `path` (under `/api/v1`) with `query`.
    #[cfg(test)]
    pub fn permission(&self, path: &str, query: &str) -> Option<Permission> {
        let bound = params(self.path, path);
        self.permission_with(|name| {
            if name == "path" {
                return query_path(query);
            }
            bound
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        })
    }
}

/// Decodes a path parameter as `web::Path` does: every escape, lossily.
fn decode(raw: &str) -> String {
    String::from_utf8_lossy(&urlencoding::decode_binary(raw.as_bytes())).into_owned()
}

/// The `path` query parameter, decoded as `web::Query` decodes it.
fn query_path(query: &str) -> Option<String> {
    web::Query::<std::collections::HashMap<String, String>>::from_query(query)
        .ok()
        .and_then(|q| q.get("path").cloned())
}

/// The `{name}` segments of `pattern` bound to the segments of `path`.
#[cfg(test)]
fn params(pattern: &str, path: &str) -> Vec<(String, String)> {
    pattern
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(p, v)| {
            let name = p.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_owned(), decode(v)))
        })
        .collect()
}

/// The operation a request is for, by method and matched route pattern.
pub fn operation(method: &Method, pattern: &str) -> Option<&'static Operation> {
    let relative = pattern.strip_prefix(super::PREFIX)?;
    OPERATIONS
        .iter()
        .find(|op| op.method == *method && op.path == relative)
}

/// Authenticates a request to an API resource (unless its operation is
/// public), records the caller and checks the operation's permission.
///
/// It wraps each resource (see `api::resource`), not the scope: only there
/// is the route known, as the router matched it, percent-encoding and all.
/// An unknown method on a resource needs an authenticated caller and gets
/// the resource's fallback answer (404 or 501).
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let op = req
        .match_pattern()
        .and_then(|p| operation(req.method(), &p));
    if op.is_some_and(|op| op.access == Access::Public) {
        return next.call(req).await;
    }
    let state = req
        .app_data::<web::Data<AuthState>>()
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "no auth state",
            )
        })?;
    let principal = state
        .authenticate(req.request())
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let permission = op.and_then(|op| {
        op.permission_with(|name| {
            if name == "path" {
                query_path(req.query_string())
            } else {
                req.match_info().get(name).map(decode)
            }
        })
    });
    if let (Some(op), Some(permission)) = (op, permission) {
        let decision = state
            .auth
            .authorize(&principal.id, std::slice::from_ref(&permission))
            .await
            .map_err(ApiError::from)?;
        if !decision.is_allowed() {
            tracing::info!(user = %principal.id, operation = op.id, action = %permission.action, resource = %permission.resource, ?decision, "refused");
            return Err(ApiError::forbidden().into());
        }
    }
    req.extensions_mut().insert(principal);
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_bind_path_and_query_parameters() {
        let op = operation(
            &Method::GET,
            "/api/v1/repositories/{repository}/refs/{ref}/objects",
        )
        .unwrap();
        assert_eq!(op.id, "getObject");
        let perm = op
            .permission(
                "/repositories/demo/refs/main/objects",
                "path=a%2Fb%20c.txt&presign=false",
            )
            .unwrap();
        assert_eq!(perm.action, "fs:ReadObject");
        assert_eq!(
            perm.resource,
            "arn:lakefs:fs:::repository/demo/object/a/b c.txt"
        );
        let merge = operation(
            &Method::POST,
            "/api/v1/repositories/{repository}/refs/{sourceRef}/merge/{destinationBranch}",
        )
        .unwrap();
        let perm = merge
            .permission("/repositories/r/refs/dev/merge/main", "")
            .unwrap();
        assert_eq!(perm.resource, "arn:lakefs:fs:::repository/r/branch/main");
    }

    #[test]
    fn templates_fill_in_one_pass() {
        let op = operation(&Method::POST, "/api/v1/auth/users/{userId}/credentials").unwrap();
        let perm = op
            .permission("/auth/users/%7Bpath%7D/credentials", "path=viewer")
            .unwrap();
        assert_eq!(perm.resource, "arn:lakefs:auth:::user/{path}");
        let invalid = op.permission("/auth/users/a%FFb/credentials", "").unwrap();
        assert_eq!(invalid.resource, "arn:lakefs:auth:::user/a\u{FFFD}b");
    }

    #[test]
    fn public_operations_need_no_permission() {
        let login = operation(&Method::POST, "/api/v1/auth/login").unwrap();
        assert!(login.permission("/auth/login", "").is_none());
    }

    #[test]
    fn every_documented_operation_declares_its_access() {
        use utoipa::OpenApi;
        let doc = serde_json::to_value(super::super::openapi::ApiDoc::openapi()).unwrap();
        let mut documented = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                let relative = path.strip_prefix(super::super::PREFIX).unwrap();
                let declared = OPERATIONS
                    .iter()
                    .find(|o| o.id == id)
                    .unwrap_or_else(|| panic!("{id} has no access rule"));
                assert_eq!(declared.path, relative, "{id}");
                assert_eq!(
                    declared.method.as_str().to_ascii_lowercase(),
                    *method,
                    "{id}"
                );
                documented.insert(id);
            }
        }
        for op in OPERATIONS.iter() {
            assert!(
                documented.contains(op.id),
                "{} is not in the OpenAPI document",
                op.id
            );
        }
    }

    #[test]
    fn operations_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for op in OPERATIONS.iter() {
            assert!(
                seen.insert((op.method.clone(), op.path)),
                "{} {} twice",
                op.method,
                op.path
            );
        }
    }
}
