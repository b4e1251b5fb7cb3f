//! The web UI: the single-page application built from `frontend/` into
//! `frontend/dist`, embedded in release builds (read from disk in debug
//! builds). Assets are served by path; any other GET outside the API is a
//! route of the application and gets `index.html` (deep links work).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "frontend/dist"]
#[allow_missing = true]
struct Assets;

/// The UI's own resources only; objects are served by the API with their
/// own sandboxing policy.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Tarn</title>\
<p>The web UI is not built into this binary. Run <code>make run</code> (or <code>make ui</code> and rebuild).\
 The API is at <code>/api/v1</code>.</p>";

fn asset(path: &str) -> Option<HttpResponse> {
    let file = Assets::get(path)?;
    let immutable = path.starts_with("assets/");
    Some(
        HttpResponse::Ok()
            .content_type(file.metadata.mimetype())
            .insert_header((
                header::CACHE_CONTROL,
                if immutable {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                },
            ))
            .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::REFERRER_POLICY, "same-origin"))
            .body(file.data.into_owned()),
    )
}

/// GET/HEAD of a UI path: an asset, or the application for any route.
pub async fn serve(req: HttpRequest) -> HttpResponse {
    let path = req.path().trim_start_matches('/');
    if let Some(resp) = (!path.is_empty()).then(|| asset(path)).flatten() {
        return resp;
    }
    // A missing asset is a 404, not the application.
    if path.starts_with("assets/") {
        return super::not_found().await;
    }
    asset("index.html").unwrap_or_else(|| {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(NOT_BUILT)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[actix_web::test]
    async fn deep_links_get_the_application_and_missing_assets_404() {
        let resp = serve(
            TestRequest::get()
                .uri("/repositories/demo/objects?ref=main")
                .to_http_request(),
        )
        .await;
        assert_eq!(resp.status(), 200);
        assert!(resp
            .headers()
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let missing = serve(TestRequest::get().uri("/assets/nope.js").to_http_request()).await;
        assert_eq!(missing.status(), 404);
    }
}
