//! Refs dump and restore: a repository's commits, branches and tags to and
//! from objects in its namespace (lakeFS's `dumpRefs` / `restoreRefs`).

use super::auth::require;
use super::error::ApiResult;
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use tarn_domain::{Engine, RefsDump};
use tarn_model::auth::{arn, Action, Permission};
use utoipa::ToSchema;

operations! {
    tag = "internal";
    dumpRefs: put "/repositories/{repository}/refs/dump" => dump,
        InHandler,
        openapi(
            params(("repository" = String, Path)),
            responses((status = 201, body = RefsDumpBody), (status = 404, body = ErrorBody)),
        );
    restoreRefs: put "/repositories/{repository}/refs/restore" => restore,
        InHandler,
        openapi(
            params(("repository" = String, Path)),
            request_body = RefsRestore,
            responses((status = 200), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
        );
}

/// The objects a dump wrote, by id.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RefsDumpBody {
    commits_meta_range_id: String,
    branches_meta_range_id: String,
    tags_meta_range_id: String,
}

/// `PUT /refs/restore` body: a dump's ids.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefsRestore {
    commits_meta_range_id: String,
    branches_meta_range_id: String,
    tags_meta_range_id: String,
    #[serde(default)]
    force: Option<bool>,
}

impl RefsRestore {
    /// Whether to restore into a read-only repository too.
    pub(super) fn force(&self) -> bool {
        self.force == Some(true)
    }

    /// The dump named.
    pub(super) fn into_dump(self) -> RefsDump {
        RefsDump {
            commits_meta_range_id: self.commits_meta_range_id,
            branches_meta_range_id: self.branches_meta_range_id,
            tags_meta_range_id: self.tags_meta_range_id,
        }
    }
}

impl From<RefsDump> for RefsDumpBody {
    fn from(d: RefsDump) -> Self {
        Self {
            commits_meta_range_id: d.commits_meta_range_id,
            branches_meta_range_id: d.branches_meta_range_id,
            tags_meta_range_id: d.tags_meta_range_id,
        }
    }
}

pub(super) fn all_on(repo: &str, actions: &[Action]) -> Vec<Permission> {
    actions
        .iter()
        .map(|a| Permission::new(*a, arn::repository(repo)))
        .collect()
}

async fn dump(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let actions = [Action::ListTags, Action::ListBranches, Action::ListCommits];
    require(&req, &all_on(&path, &actions)).await?;
    let d = engine.dump_refs(&repo_id(&path)?).await?;
    Ok(HttpResponse::Created().json(RefsDumpBody::from(d)))
}

async fn restore(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: web::Json<RefsRestore>,
) -> ApiResult<HttpResponse> {
    let actions = [
        Action::CreateTag,
        Action::CreateBranch,
        Action::CreateCommit,
    ];
    require(&req, &all_on(&path, &actions)).await?;
    let b = body.into_inner();
    let force = b.force();
    engine
        .restore_refs(&repo_id(&path)?, &b.into_dump(), force)
        .await?;
    Ok(HttpResponse::Ok().finish())
}
