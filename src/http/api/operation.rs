//! One declaration per REST operation. Each resource file declares its
//! operations once, with [`operations!`]: operationId, method, path, handler,
//! who may call it, and its OpenAPI entry. The routes, the OpenAPI document
//! and the authorization guard are all derived from those declarations
//! (see `api::routes`, `openapi::document` and [`guard`]).
//!
//! ```ignore
//! operations! {
//!     tag = "tags";
//!     /// Lists the tags of a repository.
//!     listTags: get "/repositories/{repository}/tags" => list,
//!         Requires(Action::ListTags, REPO),
//!         openapi(params(("repository" = String, Path)),
//!                 responses((status = 200, body = Listing<Ref>)));
//! }
//! ```

use super::auth::AuthState;
use super::error::ApiError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use std::collections::HashMap;
use std::sync::LazyLock;
use tarn_model::auth::{Action, Permission};
use utoipa::openapi::path::Operation as OpenApiOperation;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials.
    Public,
    /// Any authenticated user.
    Authenticated,
    /// An authenticated user allowed the action on the resource template.
    /// Templates take `{repository}`, `{branch}`, ... from the path and
    /// `{path}` from the `path` query parameter.
    Requires(Action, &'static str),
    /// An authenticated user; the handler checks permissions that depend on
    /// the request body or on each listed item.
    InHandler,
}

/// An operation's OpenAPI entry and the schemas it refers to.
pub struct OpenApiEntry {
    /// The method, as the OpenAPI document spells it.
    pub methods: Vec<utoipa::openapi::path::HttpMethod>,
    /// The operation, with its operationId, parameters, bodies and tags.
    pub operation: OpenApiOperation,
    /// The component schemas its bodies name.
    pub schemas: Vec<(String, RefOr<Schema>)>,
}

/// An operation of the API, as its resource file declares it.
pub struct Operation {
    /// lakeFS's operationId.
    pub id: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path under `/api/v1`, with `{param}` segments.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// The route that serves it (method guard and handler).
    pub route: fn() -> actix_web::Route,
    /// Its OpenAPI entry.
    pub openapi: fn() -> OpenApiEntry,
}

/// The handler of a preflight operation (`…/set_allowed`): the guard has
/// checked the permission, which is all lakeFS answers about.
pub async fn allowed_by_guard() -> actix_web::HttpResponse {
    actix_web::HttpResponse::NoContent().finish()
}

/// ARN templates of the resources operations act on.
pub mod arns {
    /// A repository.
    pub const REPO: &str = "arn:lakefs:fs:::repository/{repository}";
    /// The branch of the path.
    pub const BRANCH: &str = "arn:lakefs:fs:::repository/{repository}/branch/{branch}";
    /// The `{ref}` of the path, read as a branch (as lakeFS does).
    pub const REF_BRANCH: &str = "arn:lakefs:fs:::repository/{repository}/branch/{ref}";
    /// The destination branch of a merge.
    pub const DEST_BRANCH: &str =
        "arn:lakefs:fs:::repository/{repository}/branch/{destinationBranch}";
    /// The tag of the path.
    pub const TAG: &str = "arn:lakefs:fs:::repository/{repository}/tag/{tag}";
    /// The object named by the `path` query parameter.
    pub const OBJECT: &str = "arn:lakefs:fs:::repository/{repository}/object/{path}";
    /// The user of the path.
    pub const USER: &str = "arn:lakefs:auth:::user/{userId}";
    /// The group of the path.
    pub const GROUP: &str = "arn:lakefs:auth:::group/{groupId}";
    /// The policy of the path.
    pub const POLICY: &str = "arn:lakefs:auth:::policy/{policyId}";
    /// Anything.
    pub const ANY: &str = "*";
}

/// The [`Method`] of a lower-case method name (`get` → `GET`).
#[doc(hidden)]
#[macro_export]
macro_rules! __api_method {
    (get) => {
        actix_web::http::Method::GET
    };
    (post) => {
        actix_web::http::Method::POST
    };
    (put) => {
        actix_web::http::Method::PUT
    };
    (delete) => {
        actix_web::http::Method::DELETE
    };
    (head) => {
        actix_web::http::Method::HEAD
    };
    (patch) => {
        actix_web::http::Method::PATCH
    };
}

/// Declares the operations of one resource file: a static `OPERATIONS`
/// (routes, permission) and, in a hidden module, one utoipa path per
/// operation (the OpenAPI entry). Doc comments become the summary.
macro_rules! operations {
    (
        tag = $tag:literal;
        $(
            $(#[doc = $doc:literal])*
            $id:ident: $method:ident $path:literal => $handler:path,
            $access:expr,
            openapi($($openapi:tt)*);
        )*
    ) => {
        /// The operations this file serves (see `api::operation`).
        pub(crate) static OPERATIONS: &[$crate::http::api::operation::Operation] = &[
            $($crate::http::api::operation::Operation {
                id: stringify!($id),
                method: $crate::__api_method!($method),
                path: $path,
                access: {
                    #[allow(unused_imports)]
                    use $crate::http::api::operation::{arns::*, Access::*};
                    #[allow(unused_imports)]
                    use tarn_model::auth::Action;
                    $access
                },
                route: || actix_web::web::$method().to($handler),
                openapi: $crate::http::api::operation::entry::<openapi_entries::$id>,
            },)*
        ];

        /// The OpenAPI entries of `OPERATIONS`, one utoipa path each.
        #[doc(hidden)]
        #[allow(non_snake_case, non_camel_case_types, dead_code, clippy::empty_structs_with_brackets)]
        mod openapi_entries {
            #[allow(unused_imports)]
            use super::*;
            $(
                pub struct $id {}

                $(#[doc = $doc])*
                #[utoipa::path($method, path = concat!("/api/v1", $path),
                    operation_id = stringify!($id), tag = $tag, impl_for = $id, $($openapi)*)]
                pub fn $id() {}
            )*
        }
    };
}
pub(crate) use operations;

/// The OpenAPI entry of an operation declared by [`operations!`].
pub fn entry<P>() -> OpenApiEntry
where
    P: utoipa::Path + utoipa::__dev::SchemaReferences + for<'t> utoipa::__dev::Tags<'t>,
{
    let mut operation = P::operation();
    let tags = <P as utoipa::__dev::Tags>::tags();
    operation
        .tags
        .get_or_insert_with(Vec::new)
        .extend(tags.iter().map(|t| t.to_string()));
    let mut schemas = Vec::new();
    P::schemas(&mut schemas);
    OpenApiEntry {
        methods: P::methods(),
        operation,
        schemas,
    }
}

/// Every declared operation, by method and path (under `/api/v1`).
static BY_ROUTE: LazyLock<HashMap<(Method, &'static str), &'static Operation>> =
    LazyLock::new(|| {
        super::operations()
            .map(|op| ((op.method.clone(), op.path), op))
            .collect()
    });

/// The operation a request is for, by method and matched route pattern.
pub fn operation(method: &Method, pattern: &str) -> Option<&'static Operation> {
    let relative = pattern.strip_prefix(super::PREFIX)?;
    BY_ROUTE.get(&(method.clone(), relative)).copied()
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
}

/// Decodes a path parameter as `web::Path` does: every escape, lossily.
fn decode(raw: &str) -> String {
    String::from_utf8_lossy(&urlencoding::decode_binary(raw.as_bytes())).into_owned()
}

/// The `path` query parameter, decoded as `web::Query` decodes it.
fn query_path(query: &str) -> Option<String> {
    web::Query::<HashMap<String, String>>::from_query(query)
        .ok()
        .and_then(|q| q.get("path").cloned())
}

/// Authenticates a request to an API resource (unless its operation is
/// public), records the caller and checks the operation's permission.
///
/// It wraps each resource (see `api::resource`), not the scope: only there
/// is the route known, as the router matched it, percent-encoding and all.
/// A request for which no operation is declared is never served: an
/// undeclared method on a declared path gets the API's fallback answer (401,
/// 404 or 501), and a route registered without any declaration answers 500.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Paths are UTF-8: an escape that decodes to anything else would be
    // replaced, and two distinct paths would name one object.
    let text = crate::http::shared::text::percent_decode(req.uri().path(), "the URL path")
        .and_then(|_| crate::http::shared::text::check_form_query(req.query_string()));
    if let Err(e) = text {
        return Err(ApiError::bad_request(e.to_string()).into());
    }
    let pattern = req.match_pattern().unwrap_or_default();
    let Some(op) = operation(req.method(), &pattern) else {
        let relative = pattern.strip_prefix(super::PREFIX).unwrap_or(&pattern);
        if super::operations().any(|op| op.path == relative) {
            return Err(super::fallback_error(req.request()).await.into());
        }
        tracing::error!(method = %req.method(), route = %pattern, "refused a request to a route no operation declares");
        return Err(ApiError::new(
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            "this route declares no operation",
        )
        .into());
    };
    crate::http::observe::tag(req.request(), "api", op.id);
    if op.access == Access::Public {
        return slow_body_is_a_timeout(next.call(req).await);
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
        .await
        .map_err(ApiError::from)?
        .ok_or_else(ApiError::unauthenticated)?;
    crate::http::observe::set_user(req.request(), principal.id.as_str());
    let permission = op.permission_with(|name| {
        if name == "path" {
            query_path(req.query_string())
        } else {
            req.match_info().get(name).map(decode)
        }
    });
    if let Some(permission) = permission {
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
    slow_body_is_a_timeout(next.call(req).await)
}

/// A body cut off for crawling (see `shared::deadline`) answers 408,
/// however the handler saw its failed body.
fn slow_body_is_a_timeout<B>(
    res: Result<ServiceResponse<B>, actix_web::Error>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    match res {
        Ok(r) if crate::http::shared::deadline::body_timed_out(r.request()) => Err(ApiError::new(
            actix_web::http::StatusCode::REQUEST_TIMEOUT,
            crate::http::shared::deadline::TIMEOUT_MESSAGE,
        )
        .into()),
        other => other,
    }
}

#[cfg(test)]
#[path = "operation_tests.rs"]
mod tests;
