//! Which repositories a caller may see: the API's repository listing and
//! the gateway's ListBuckets list through here, so both show the same.

use tarn_domain::auth::Auth;
use tarn_domain::{Engine, Page};
use tarn_model::auth::{arn, authorize, Action, Permission, UserId};
use tarn_model::Repository;

/// A page of the repositories that `user` may read (`fs:ReadRepository`)
/// and that pass `keep`: repositories hidden from the caller are skipped
/// without shortening the page. The user's policies are looked up once and
/// each repository is decided in memory. The API's listing and the
/// gateway's ListBuckets both list through here.
pub async fn visible_repositories(
    engine: &Engine,
    auth: &Auth,
    user: &UserId,
    prefix: &str,
    after: Option<&str>,
    amount: usize,
    keep: impl Fn(&Repository) -> bool,
) -> Result<Page<Repository>, tarn_domain::Error> {
    let policies = auth.policies_of(user).await?;
    let mut cursor = after.map(str::to_owned);
    let mut out = Vec::new();
    loop {
        let page = engine
            .list_repositories(prefix, cursor.as_deref(), tarn_domain::MAX_AMOUNT)
            .await?;
        for repo in page.items {
            cursor = Some(repo.id.as_str().to_owned());
            let readable =
                Permission::new(Action::ReadRepository, arn::repository(repo.id.as_str()));
            if keep(&repo) && authorize(&policies, user, &[readable]).is_allowed() {
                out.push(repo);
                if out.len() > amount {
                    return Ok(Page::from_overfetch(out, amount, |r| {
                        r.id.as_str().to_owned()
                    }));
                }
            }
        }
        if !page.has_more {
            return Ok(Page::from_overfetch(out, amount, |r| {
                r.id.as_str().to_owned()
            }));
        }
    }
}
