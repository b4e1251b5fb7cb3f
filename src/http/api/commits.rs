//! Commits: create, get (any ref expression), log.

use super::auth::principal;
use super::branches::branch_name;
use super::error::{ApiError, ApiResult};
use super::models::{amount, parse_bool, CommitBody, Listing};
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::collections::BTreeMap;
use tarn_domain::{CommitRequest, Engine, LogRequest};
use tarn_model::{Commit, CommitId, MetaRangeId, ObjectPath, Timestamp};
use utoipa::ToSchema;

operations! {
    tag = "commits";
    commit: post "/repositories/{repository}/branches/{branch}/commits" => commit,
        Requires(Action::CreateCommit, BRANCH),
        openapi(
            params(("repository" = String, Path), ("branch" = String, Path)),
            request_body = CommitCreation,
            responses((status = 201, body = CommitBody), (status = 400, body = ErrorBody)),
        );
    getCommit: get "/repositories/{repository}/commits/{commitId}" => get,
        Requires(Action::ReadCommit, REPO),
        openapi(
            params(("repository" = String, Path), ("commitId" = String, Path)),
            responses((status = 200, body = CommitBody)),
        );
    logCommits: get "/repositories/{repository}/refs/{ref}/commits" => log,
        Requires(Action::ReadBranch, REF_BRANCH),
        openapi(
            tag = "refs",
            params(("repository" = String, Path), ("ref" = String, Path)),
            responses((status = 200, body = Listing<CommitBody>)),
        );
    CreateCommitRecord: post "/repositories/{repository}/commits" => create_record,
        Requires(Action::CreateCommit, REPO),
        openapi(
            tag = "internal",
            params(("repository" = String, Path)),
            request_body = CommitRecordCreation,
            responses((status = 204), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
        );
}

/// `POST /repositories/{repository}/commits` body: a whole commit record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CommitRecordCreation {
    commit_id: String,
    version: u8,
    committer: String,
    message: String,
    metarange_id: String,
    creation_date: i64,
    parents: Vec<String>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
    generation: u64,
    #[serde(default)]
    force: Option<bool>,
}

async fn create_record(
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: web::Json<CommitRecordCreation>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    if b.version > 1 {
        return Err(ApiError::bad_request(format!(
            "version {}: commit records are version 0 or 1",
            b.version
        )));
    }
    fn invalid(what: &'static str) -> impl Fn(tarn_model::InvalidValue) -> ApiError {
        move |e| ApiError::bad_request(format!("{what}: {e}"))
    }
    let commit = Commit {
        id: CommitId::new(&b.commit_id).map_err(invalid("commit_id"))?,
        committer: b.committer,
        message: b.message,
        meta_range_id: MetaRangeId::new(&b.metarange_id).map_err(invalid("metarange_id"))?,
        creation_date: Timestamp::from_unix_seconds(b.creation_date),
        metadata: b.metadata.unwrap_or_default(),
        parents: b
            .parents
            .iter()
            .map(CommitId::new)
            .collect::<Result<_, _>>()
            .map_err(invalid("parents"))?,
        generation: b.generation,
        version: b.version,
    };
    engine
        .create_commit_record(&repo_id(&path)?, commit, b.force == Some(true))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /commits` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CommitCreation {
    message: String,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    date: Option<i64>,
    #[serde(default)]
    allow_empty: Option<bool>,
    #[serde(default)]
    force: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct CommitQuery {
    #[serde(default)]
    source_metarange: Option<String>,
}

async fn commit(
    engine: web::Data<Engine>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<CommitQuery>,
    body: web::Json<CommitCreation>,
) -> ApiResult<HttpResponse> {
    if q.source_metarange.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(ApiError::not_implemented("commit with source_metarange"));
    }
    if body.force == Some(true) {
        return Err(ApiError::not_implemented("commit with force"));
    }
    let (repo, branch) = path.into_inner();
    let body = body.into_inner();
    let request = CommitRequest {
        message: body.message,
        committer: principal(&req)?.id.into_string(),
        metadata: body.metadata.unwrap_or_default(),
        date: body.date.map(Timestamp::from_unix_seconds),
        allow_empty: body.allow_empty.unwrap_or(false),
    };
    let c = engine
        .commit(&repo_id(&repo)?, &branch_name(&branch)?, request)
        .await?;
    Ok(HttpResponse::Created().json(CommitBody::from(c)))
}

async fn get(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<CommitBody>> {
    let (repo, reference) = path.into_inner();
    Ok(web::Json(
        engine
            .get_commit(&repo_id(&repo)?, &reference)
            .await?
            .into(),
    ))
}

/// Query of `logCommits`; `objects` and `prefixes` repeat.
#[derive(Debug, Default)]
struct LogQuery {
    after: Option<String>,
    amount: Option<i64>,
    objects: Vec<String>,
    prefixes: Vec<String>,
    first_parent: Option<bool>,
    since: Option<String>,
    stop_at: Option<String>,
    limit: Option<bool>,
}

fn parse_log_query(query: &str) -> ApiResult<LogQuery> {
    let pairs: Vec<(String, String)> = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|e| ApiError::bad_request(format!("invalid query: {e}")))?
        .into_inner();
    let mut q = LogQuery::default();
    let boolean = |v: &str| parse_bool(v).map_err(ApiError::bad_request);
    for (k, v) in pairs {
        match k.as_str() {
            "after" => q.after = Some(v),
            "amount" if v.is_empty() => {}
            "amount" => {
                let n = v
                    .parse()
                    .map_err(|_| ApiError::bad_request(format!("invalid amount {v:?}")))?;
                q.amount = Some(n);
            }
            "objects" => q.objects.push(v),
            "prefixes" => q.prefixes.push(v),
            "first_parent" => q.first_parent = boolean(&v)?,
            "since" => q.since = Some(v),
            "stop_at" => q.stop_at = Some(v),
            "limit" => q.limit = boolean(&v)?,
            _ => {}
        }
    }
    Ok(q)
}

/// `since` as RFC 3339 (`2024-01-02T03:04:05Z`, optional fraction and offset)
/// or unix seconds.
fn parse_since(s: &str) -> ApiResult<Timestamp> {
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(Timestamp::from_unix_seconds(secs));
    }
    crate::http::shared::dates::parse_rfc3339(s)
        .ok_or_else(|| ApiError::bad_request(format!("invalid since {s:?}: expected RFC 3339")))
}

async fn log(
    engine: web::Data<Engine>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<Listing<CommitBody>>> {
    let (repo, reference) = path.into_inner();
    let q = parse_log_query(req.query_string())?;
    let objects = q
        .objects
        .iter()
        .map(ObjectPath::new)
        .collect::<Result<Vec<_>, _>>()?;
    let request = LogRequest {
        after: q.after.filter(|a| !a.is_empty()),
        amount: amount(q.amount),
        objects,
        prefixes: q.prefixes,
        first_parent: q.first_parent.unwrap_or(false),
        since: q
            .since
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(parse_since)
            .transpose()?,
        stop_at: q.stop_at.filter(|s| !s.is_empty()),
    };
    let mut page = engine.log(&repo_id(&repo)?, &reference, &request).await?;
    if q.limit == Some(true) {
        // As lakeFS: the log ends after `amount` commits.
        page.has_more = false;
        page.next_offset.clear();
    }
    Ok(web::Json(Listing::from_page(page, CommitBody::from)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_rfc3339_and_unix_seconds() {
        assert_eq!(
            parse_since("1700000000").unwrap().unix_seconds(),
            1_700_000_000
        );
        assert_eq!(
            parse_since("2023-11-14T22:13:20Z").unwrap().unix_seconds(),
            1_700_000_000
        );
        assert_eq!(
            parse_since("2023-11-14T23:13:20.5+01:00")
                .unwrap()
                .unix_seconds(),
            1_700_000_000
        );
        assert_eq!(
            parse_since("1970-01-01T00:00:00Z").unwrap().unix_seconds(),
            0
        );
        assert!(parse_since("yesterday").is_err());
    }

    #[test]
    fn repeated_filters_are_collected() {
        let q = parse_log_query(
            "objects=a&objects=b&prefixes=p%2F&amount=5&first_parent=True&limit=false",
        )
        .unwrap();
        assert_eq!(q.objects, ["a", "b"]);
        assert_eq!(q.prefixes, ["p/"]);
        assert_eq!(q.amount, Some(5));
        assert_eq!(q.first_parent, Some(true));
        assert!(parse_log_query("first_parent=maybe").is_err());
    }
}
