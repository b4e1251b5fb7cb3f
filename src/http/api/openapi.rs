//! The OpenAPI document: the API's description, with one entry per declared
//! operation (see `operation`).

use utoipa::OpenApi;

/// Tarn's API description (a lakeFS API v1 subset), without its paths;
/// [`document`] adds them.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tarn API (lakeFS API v1 compatible)", version = "1.0.0"),
    servers((url = "/")),
    components(schemas(super::error::ErrorBody)),
    modifiers(&Security),
    security(("basic_auth" = []), ("jwt_token" = []), ("cookie_auth" = []))
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic_auth",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "jwt_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie_auth",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                super::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// The whole document: the description and every declared operation.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    for op in super::operations() {
        let entry = (op.openapi)();
        let path = format!("{}{}", super::PREFIX, op.path);
        doc.paths
            .add_path_operation(path, entry.methods, entry.operation);
        components.schemas.extend(entry.schemas);
    }
    doc
}

/// `GET /openapi.json`.
pub async fn serve() -> actix_web::HttpResponse {
    static DOCUMENT: std::sync::LazyLock<serde_json::Value> = std::sync::LazyLock::new(|| {
        serde_json::to_value(document()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot serialize the OpenAPI document");
            serde_json::Value::Null
        })
    });
    actix_web::HttpResponse::Ok().json(&*DOCUMENT)
}
