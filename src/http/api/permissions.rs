//! Every API operation with the permission it needs, in one table, and the
//! middleware that authenticates each request and checks that permission.

use super::auth::AuthState;
use super::error::ApiError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

/// What an operation needs: an action on a resource (lakeFS's RBAC names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// e.g. `fs:ReadObject`.
    pub action: &'static str,
    /// An ARN, e.g. `arn:lakefs:fs:::repository/demo/object/a.txt`.
    pub resource: String,
}

/// An operation of the API.
pub struct Operation {
    /// lakeFS's operationId.
    pub id: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path under `/api/v1`, with `{param}` segments.
    pub path: &'static str,
    /// The action, or `None` for operations that need no authentication.
    pub action: Option<&'static str>,
    /// The resource template: `{repository}`, `{branch}`, ... from the path,
    /// `{path}` from the `path` query parameter.
    pub resource: &'static str,
}

const REPO: &str = "arn:lakefs:fs:::repository/{repository}";
const BRANCH: &str = "arn:lakefs:fs:::repository/{repository}/branch/{branch}";
const DEST_BRANCH: &str = "arn:lakefs:fs:::repository/{repository}/branch/{destinationBranch}";
const TAG: &str = "arn:lakefs:fs:::repository/{repository}/tag/{tag}";
const OBJECT: &str = "arn:lakefs:fs:::repository/{repository}/object/{path}";
const ANY: &str = "*";

macro_rules! ops {
    ($($id:literal $method:ident $path:literal $action:expr, $resource:expr;)*) => {
        /// Every operation Tarn serves.
        pub static OPERATIONS: std::sync::LazyLock<Vec<Operation>> = std::sync::LazyLock::new(|| vec![
            $(Operation { id: $id, method: Method::$method, path: $path, action: $action, resource: $resource },)*
        ]);
    };
}

ops! {
    "healthCheck" GET "/healthcheck" None, ANY;
    "getSetupState" GET "/setup_lakefs" None, ANY;
    "setup" POST "/setup_lakefs" None, ANY;
    "setupCommPrefs" POST "/setup_comm_prefs" None, ANY;
    "login" POST "/auth/login" None, ANY;
    "getConfig" GET "/config" Some("fs:ReadConfig"), ANY;
    "getLakeFSVersion" GET "/config/version" Some("fs:ReadConfig"), ANY;
    "getStorageConfig" GET "/config/storage" Some("fs:ReadConfig"), ANY;
    "getCurrentUser" GET "/user" Some("auth:ReadUser"), ANY;
    "listRepositories" GET "/repositories" Some("fs:ListRepositories"), ANY;
    "createRepository" POST "/repositories" Some("fs:CreateRepository"), ANY;
    "getRepository" GET "/repositories/{repository}" Some("fs:ReadRepository"), REPO;
    "deleteRepository" DELETE "/repositories/{repository}" Some("fs:DeleteRepository"), REPO;
    "getBranchProtectionRules" GET "/repositories/{repository}/settings/branch_protection" Some("branches:GetBranchProtectionRules"), REPO;
    "setBranchProtectionRules" PUT "/repositories/{repository}/settings/branch_protection" Some("branches:SetBranchProtectionRules"), REPO;
    "getRepositoryMetadata" GET "/repositories/{repository}/metadata" Some("fs:ReadRepository"), REPO;
    "listBranches" GET "/repositories/{repository}/branches" Some("fs:ListBranches"), REPO;
    "createBranch" POST "/repositories/{repository}/branches" Some("fs:CreateBranch"), REPO;
    "getBranch" GET "/repositories/{repository}/branches/{branch}" Some("fs:ReadBranch"), BRANCH;
    "deleteBranch" DELETE "/repositories/{repository}/branches/{branch}" Some("fs:DeleteBranch"), BRANCH;
    "resetBranch" PUT "/repositories/{repository}/branches/{branch}" Some("fs:RevertBranch"), BRANCH;
    "hardResetBranch" PUT "/repositories/{repository}/branches/{branch}/hard_reset" Some("fs:RevertBranch"), BRANCH;
    "revertBranch" POST "/repositories/{repository}/branches/{branch}/revert" Some("fs:RevertBranch"), BRANCH;
    "cherryPick" POST "/repositories/{repository}/branches/{branch}/cherry-pick" Some("fs:CreateCommit"), BRANCH;
    "diffBranch" GET "/repositories/{repository}/branches/{branch}/diff" Some("fs:ListObjects"), REPO;
    "commit" POST "/repositories/{repository}/branches/{branch}/commits" Some("fs:CreateCommit"), BRANCH;
    "getCommit" GET "/repositories/{repository}/commits/{commitId}" Some("fs:ReadCommit"), REPO;
    "logCommits" GET "/repositories/{repository}/refs/{ref}/commits" Some("fs:ReadBranch"), REPO;
    "mergeIntoBranch" POST "/repositories/{repository}/refs/{sourceRef}/merge/{destinationBranch}" Some("fs:CreateCommit"), DEST_BRANCH;
    "findMergeBase" GET "/repositories/{repository}/refs/{sourceRef}/merge/{destinationBranch}" Some("fs:ListCommits"), REPO;
    "diffRefs" GET "/repositories/{repository}/refs/{leftRef}/diff/{rightRef}" Some("fs:ListObjects"), REPO;
    "listTags" GET "/repositories/{repository}/tags" Some("fs:ListTags"), REPO;
    "createTag" POST "/repositories/{repository}/tags" Some("fs:CreateTag"), REPO;
    "getTag" GET "/repositories/{repository}/tags/{tag}" Some("fs:ReadTag"), TAG;
    "deleteTag" DELETE "/repositories/{repository}/tags/{tag}" Some("fs:DeleteTag"), TAG;
    "getObject" GET "/repositories/{repository}/refs/{ref}/objects" Some("fs:ReadObject"), OBJECT;
    "headObject" HEAD "/repositories/{repository}/refs/{ref}/objects" Some("fs:ReadObject"), OBJECT;
    "statObject" GET "/repositories/{repository}/refs/{ref}/objects/stat" Some("fs:ReadObject"), OBJECT;
    "listObjects" GET "/repositories/{repository}/refs/{ref}/objects/ls" Some("fs:ListObjects"), REPO;
    "getUnderlyingProperties" GET "/repositories/{repository}/refs/{ref}/objects/underlyingProperties" Some("fs:ReadObject"), OBJECT;
    "uploadObject" POST "/repositories/{repository}/branches/{branch}/objects" Some("fs:WriteObject"), OBJECT;
    "deleteObject" DELETE "/repositories/{repository}/branches/{branch}/objects" Some("fs:DeleteObject"), OBJECT;
    "deleteObjects" POST "/repositories/{repository}/branches/{branch}/objects/delete" Some("fs:DeleteObject"), REPO;
    "copyObject" POST "/repositories/{repository}/branches/{branch}/objects/copy" Some("fs:WriteObject"), REPO;
    "updateObjectUserMetadata" PUT "/repositories/{repository}/branches/{branch}/objects/stat/user_metadata" Some("fs:WriteObject"), OBJECT;
    "getPhysicalAddress" GET "/repositories/{repository}/branches/{branch}/staging/backing" Some("fs:WriteObject"), OBJECT;
    "linkPhysicalAddress" PUT "/repositories/{repository}/branches/{branch}/staging/backing" Some("fs:WriteObject"), OBJECT;
}

impl Operation {
    /// The permission for a request to `path` (under `/api/v1`) with `query`.
    pub fn permission(&self, path: &str, query: &str) -> Option<Permission> {
        let action = self.action?;
        let mut resource = self.resource.to_owned();
        for (name, value) in params(self.path, path) {
            resource = resource.replace(&format!("{{{name}}}"), &value);
        }
        if resource.contains("{path}") {
            let p = web::Query::<std::collections::HashMap<String, String>>::from_query(query)
                .ok()
                .and_then(|q| q.get("path").cloned())
                .unwrap_or_default();
            resource = resource.replace("{path}", &p);
        }
        Some(Permission { action, resource })
    }
}

/// The `{name}` segments of `pattern` bound to the segments of `path`.
fn params(pattern: &str, path: &str) -> Vec<(String, String)> {
    pattern
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(p, v)| {
            let name = p.strip_prefix('{')?.strip_suffix('}')?;
            let value = urlencoding::decode(v)
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| v.to_owned());
            Some((name.to_owned(), value))
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

/// Authenticates every API request except the public operations, records the
/// caller, and checks the operation's permission.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let op = req
        .match_pattern()
        .and_then(|p| operation(req.method(), &p));
    // Fail closed: only operations declared public skip authentication.
    let public = op.is_some_and(|op| op.action.is_none());
    if !public {
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
            .ok_or_else(ApiError::unauthenticated)?;
        let relative = req.path().strip_prefix(super::PREFIX).unwrap_or(req.path());
        let permission = op.and_then(|op| op.permission(relative, req.query_string()));
        if let (Some(op), Some(permission)) = (op, permission) {
            // The single admin may do everything; the RBAC issue brings policies.
            tracing::debug!(user = %principal.username, operation = op.id, action = permission.action, resource = %permission.resource, "authorized");
        }
        req.extensions_mut().insert(principal);
    }
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
    fn public_operations_need_no_permission() {
        let login = operation(&Method::POST, "/api/v1/auth/login").unwrap();
        assert!(login.permission("/auth/login", "").is_none());
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
