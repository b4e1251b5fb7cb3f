//! Tags: list, create, get, delete.

use super::error::ApiResult;
use super::models::{amount, Listing, PageQuery, Ref};
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tarn_domain::Engine;
use tarn_model::auth::{arn, Action, Permission};
use tarn_model::TagName;
use utoipa::ToSchema;

operations! {
    tag = "tags";
    listTags: get "/repositories/{repository}/tags" => list,
        Requires(Action::ListTags, REPO),
        openapi(
            params(("repository" = String, Path)),
            responses((status = 200, body = Listing<Ref>)),
        );
    createTag: post "/repositories/{repository}/tags" => create,
        InHandler,
        openapi(
            params(("repository" = String, Path)),
            request_body = TagCreation,
            responses((status = 201, body = Ref), (status = 409, body = ErrorBody)),
        );
    getTag: get "/repositories/{repository}/tags/{tag}" => get,
        Requires(Action::ReadTag, TAG),
        openapi(
            params(("repository" = String, Path), ("tag" = String, Path)),
            responses((status = 200, body = Ref)),
        );
    deleteTag: delete "/repositories/{repository}/tags/{tag}" => delete,
        Requires(Action::DeleteTag, TAG),
        openapi(
            params(("repository" = String, Path), ("tag" = String, Path)),
            responses((status = 204)),
        );
}

async fn list(
    engine: web::Data<Engine>,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> ApiResult<web::Json<Listing<Ref>>> {
    let after = q.after.as_deref().filter(|a| !a.is_empty());
    let page = engine
        .list_tags(
            &repo_id(&path)?,
            q.prefix.as_deref().unwrap_or(""),
            after,
            amount(q.amount),
        )
        .await?;
    Ok(web::Json(Listing::from_page(page, |t| Ref {
        id: t.name.into_string(),
        commit_id: t.commit_id.into_string(),
    })))
}

/// `POST /tags` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TagCreation {
    id: String,
    #[serde(rename = "ref")]
    reference: String,
}

async fn create(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: web::Json<TagCreation>,
) -> ApiResult<HttpResponse> {
    let tag_arn = arn::tag(&path, &body.id);
    super::auth::require(&req, &[Permission::new(Action::CreateTag, tag_arn)]).await?;
    let tag = super::auth::acting(&req, &engine)?
        .create_tag(&repo_id(&path)?, TagName::new(&body.id)?, &body.reference)
        .await?;
    Ok(HttpResponse::Created().json(Ref {
        id: tag.name.into_string(),
        commit_id: tag.commit_id.into_string(),
    }))
}

async fn get(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<Ref>> {
    let (repo, tag) = path.into_inner();
    let t = engine
        .get_tag(&repo_id(&repo)?, &TagName::new(tag)?)
        .await?;
    Ok(web::Json(Ref {
        id: t.name.into_string(),
        commit_id: t.commit_id.into_string(),
    }))
}

async fn delete(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (repo, tag) = path.into_inner();
    super::auth::acting(&req, &engine)?
        .delete_tag(&repo_id(&repo)?, &TagName::new(tag)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
