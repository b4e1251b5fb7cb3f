//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;

/// Tarn's API description (a lakeFS API v1 subset).
#[derive(OpenApi)]
#[openapi(
    info(title = "Tarn API (lakeFS API v1 compatible)", version = "1.0.0"),
    servers((url = "/")),
    paths(
        super::auth::login, super::auth::current_user, super::auth::capabilities,
        super::auth::users::list, super::auth::users::create, super::auth::users::get,
        super::auth::users::delete, super::auth::users::groups, super::auth::users::policies,
        super::auth::users::attach, super::auth::users::detach,
        super::auth::groups::list, super::auth::groups::create, super::auth::groups::get,
        super::auth::groups::delete, super::auth::groups::members, super::auth::groups::add_member,
        super::auth::groups::remove_member, super::auth::groups::policies,
        super::auth::groups::attach, super::auth::groups::detach,
        super::auth::policies::list, super::auth::policies::create, super::auth::policies::get,
        super::auth::policies::update, super::auth::policies::delete,
        super::auth::credentials::list, super::auth::credentials::create,
        super::auth::credentials::get, super::auth::credentials::delete,
        super::config::config, super::config::version, super::config::storage, super::config::health,
        super::config::setup_state, super::config::setup, super::config::comm_prefs,
        super::repositories::list, super::repositories::create, super::repositories::get,
        super::repositories::delete, super::repositories::metadata,
        super::branches::list, super::branches::create, super::branches::get, super::branches::delete,
        super::branches::reset, super::branches::hard_reset, super::branches::revert,
        super::branches::cherry_pick, super::branches::diff,
        super::commits::commit, super::commits::get, super::commits::log,
        super::refs::diff, super::refs::merge, super::refs::merge_base,
        super::tags::list, super::tags::create, super::tags::get, super::tags::delete,
        super::objects::get, super::objects::head, super::objects::stat, super::objects::list, super::objects::underlying,
        super::uploads::upload, super::uploads::delete, super::uploads::delete_many, super::uploads::copy,
        super::uploads::update_metadata,
        super::staging::get_address, super::staging::link,
        super::settings::get, super::settings::set,
    ),
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

/// `GET /openapi.json`.
pub async fn serve() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(ApiDoc::openapi())
}
