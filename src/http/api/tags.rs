//! Tags: list, create, get, delete.

use super::error::ApiResult;
use super::models::{amount, Listing, PageQuery, Ref};
use super::repositories::repo_id;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tarn_domain::Engine;
use tarn_model::auth::{arn, Permission};
use tarn_model::TagName;
use utoipa::ToSchema;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/repositories/{repository}/tags")
            .get(list)
            .post(create),
    )
    .service(
        super::resource("/repositories/{repository}/tags/{tag}")
            .get(get)
            .delete(delete),
    );
}

#[utoipa::path(get, path = "/api/v1/repositories/{repository}/tags", tag = "tags", operation_id = "listTags",
    params(("repository" = String, Path)), responses((status = 200, body = Listing<Ref>)))]
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

#[utoipa::path(post, path = "/api/v1/repositories/{repository}/tags", tag = "tags", operation_id = "createTag",
    params(("repository" = String, Path)), request_body = TagCreation, responses((status = 201, body = Ref), (status = 409, body = super::error::ErrorBody)))]
async fn create(
    req: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: web::Json<TagCreation>,
) -> ApiResult<HttpResponse> {
    let tag_arn = arn::tag(&path, &body.id);
    super::auth::require(&req, &[Permission::new("fs:CreateTag", tag_arn)]).await?;
    let tag = engine
        .create_tag(&repo_id(&path)?, TagName::new(&body.id)?, &body.reference)
        .await?;
    Ok(HttpResponse::Created().json(Ref {
        id: tag.name.into_string(),
        commit_id: tag.commit_id.into_string(),
    }))
}

#[utoipa::path(get, path = "/api/v1/repositories/{repository}/tags/{tag}", tag = "tags", operation_id = "getTag",
    params(("repository" = String, Path), ("tag" = String, Path)), responses((status = 200, body = Ref)))]
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

#[utoipa::path(delete, path = "/api/v1/repositories/{repository}/tags/{tag}", tag = "tags", operation_id = "deleteTag",
    params(("repository" = String, Path), ("tag" = String, Path)), responses((status = 204)))]
async fn delete(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (repo, tag) = path.into_inner();
    engine
        .delete_tag(&repo_id(&repo)?, &TagName::new(tag)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
