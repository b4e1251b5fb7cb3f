//! Liveness and readiness. `GET /_health` answers 200 while the server
//! runs. `GET /_ready` answers 200 when the database and the block store
//! answer, and 503 with the reason when either does not.

use actix_web::{web, HttpResponse};
use std::time::Duration;
use tarn_domain::Engine;
use tarn_model::BlockKey;

/// How long a check may take before it counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/_health", web::get().to(health))
        .route("/_ready", web::get().to(ready));
}

async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("alive!")
}

/// The database: one repository listed. The block store: a probe key read
/// in the first repository's namespace (not found is an answer; no
/// repository, nothing to check yet).
async fn checks(engine: &Engine) -> Result<(), String> {
    let page = engine
        .list_repositories("", None, 1)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let Some(repo) = page.items.first() else {
        return Ok(());
    };
    let key = BlockKey::new("_tarn/ready-probe").map_err(|e| format!("block store: {e}"))?;
    match engine
        .stores()
        .blocks
        .head(&repo.storage_namespace, &key)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == tarn_ports::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("block store: {e}")),
    }
}

async fn ready(engine: web::Data<Engine>) -> HttpResponse {
    let outcome = tokio::time::timeout(CHECK_TIMEOUT, checks(&engine))
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {CHECK_TIMEOUT:?}")));
    match outcome {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ready"),
        Err(reason) => {
            tracing::warn!(reason, "not ready");
            HttpResponse::ServiceUnavailable().json(super::ErrorBody {
                message: &format!("not ready: {reason}"),
                request_id: super::observe::current_id(),
            })
        }
    }
}
