use super::*;
use crate::Entity;
use std::time::Duration;
use tarn_adapter_memory::{MemoryAuthStore, SystemClock};
use tarn_model::auth::{Action, Effect, Statement};

fn service(store: &Arc<MemoryAuthStore>, ttl_ms: u64) -> Auth {
    let settings = AuthSettings {
        cache_ttl: Duration::from_millis(ttl_ms),
        cache_size: 100,
    };
    Auth::new(
        store.clone(),
        Arc::new(SystemClock::new()),
        "test key",
        &settings,
    )
    .unwrap()
}

fn perm(action: &str, resource: &str) -> Vec<Permission> {
    vec![Permission::new(Action::parse(action).unwrap(), resource)]
}

fn uid(s: &str) -> UserId {
    UserId::new(s).unwrap()
}

#[tokio::test]
async fn an_empty_secret_key_is_refused() {
    let store = Arc::new(MemoryAuthStore::new());
    let r = Auth::new(
        store,
        Arc::new(SystemClock::new()),
        "",
        &AuthSettings::default(),
    );
    assert!(matches!(r, Err(Error::InvalidInput { .. })));
}

#[tokio::test]
async fn setup_creates_an_admin_with_builtin_groups_once() {
    let store = Arc::new(MemoryAuthStore::new());
    let auth = service(&store, 0);
    assert!(!auth.is_initialized().await.unwrap());
    let creds = auth.setup("admin", None).await.unwrap();
    assert!(auth.is_initialized().await.unwrap());
    assert_eq!(creds.access_key_id.as_str().len(), 20);
    assert_eq!(creds.secret_access_key.len(), 40);
    let who = auth
        .authenticate_key(creds.access_key_id.as_str(), &creds.secret_access_key)
        .await
        .unwrap();
    assert_eq!(who, Some(uid("admin")));
    assert_eq!(
        auth.authenticate_key(creds.access_key_id.as_str(), "wrong")
            .await
            .unwrap(),
        None
    );
    let groups = auth.list_groups("", "", 100).await.unwrap();
    let names: Vec<_> = groups.items.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(names, ["Admins", "Developers", "SuperUsers", "Viewers"]);
    let d = auth
        .authorize(
            &uid("admin"),
            &perm("auth:CreateUser", "arn:lakefs:auth:::user/x"),
        )
        .await
        .unwrap();
    assert_eq!(d, Decision::Allowed);
    let again = auth.setup("other", None).await;
    assert!(
        matches!(
            again,
            Err(Error::AlreadyExists {
                entity: Entity::Setup,
                ..
            })
        ),
        "{again:?}"
    );
    assert!(matches!(
        auth.get_user("other").await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn ensure_setup_is_idempotent_and_keeps_the_given_key() {
    let store = Arc::new(MemoryAuthStore::new());
    let auth = service(&store, 0);
    assert!(auth
        .ensure_setup("quick", "AKIAIOSFOLQUICKSTART", "secret/key")
        .await
        .unwrap());
    assert!(!auth
        .ensure_setup("quick", "AKIAIOSFOLQUICKSTART", "secret/key")
        .await
        .unwrap());
    let who = auth
        .authenticate_key("AKIAIOSFOLQUICKSTART", "secret/key")
        .await
        .unwrap();
    assert_eq!(who, Some(uid("quick")));
}

#[tokio::test]
async fn secrets_are_sealed_in_the_store() {
    let store = Arc::new(MemoryAuthStore::new());
    let auth = service(&store, 0);
    auth.create_user("u", None, None).await.unwrap();
    let c = auth.create_credentials("u", None).await.unwrap();
    let stored = store.get_credential(&c.access_key_id).await.unwrap();
    let plain = c.secret_access_key.as_bytes();
    assert!(!stored
        .sealed_secret
        .windows(plain.len())
        .any(|w| w == plain));
    // Another key cannot open it: the credential does not authenticate.
    let other = Auth::new(
        store.clone(),
        Arc::new(SystemClock::new()),
        "other key",
        &AuthSettings::default(),
    )
    .unwrap();
    assert!(other
        .authenticate_key(c.access_key_id.as_str(), &c.secret_access_key)
        .await
        .is_err());
}

#[tokio::test]
async fn groups_and_denies_decide() {
    let store = Arc::new(MemoryAuthStore::new());
    let auth = service(&store, 60_000);
    auth.setup("admin", None).await.unwrap();
    auth.create_user("viewer", None, None).await.unwrap();
    auth.add_member("Viewers", "viewer").await.unwrap();
    let obj = "arn:lakefs:fs:::repository/r/object/a";
    assert!(auth
        .authorize(&uid("viewer"), &perm("fs:ReadObject", obj))
        .await
        .unwrap()
        .is_allowed());
    assert!(!auth
        .authorize(&uid("viewer"), &perm("fs:WriteObject", obj))
        .await
        .unwrap()
        .is_allowed());
    // A change made here applies at once, despite the long TTL.
    let deny = Statement::new(
        Effect::Deny,
        vec!["fs:*".into()],
        "arn:lakefs:fs:::repository/r*",
    )
    .unwrap();
    auth.create_policy("NoR", vec![deny]).await.unwrap();
    auth.attach_user_policy("viewer", "NoR").await.unwrap();
    assert_eq!(
        auth.authorize(&uid("viewer"), &perm("fs:ReadObject", obj))
            .await
            .unwrap(),
        Decision::Denied
    );
    auth.detach_user_policy("viewer", "NoR").await.unwrap();
    assert!(auth
        .authorize(&uid("viewer"), &perm("fs:ReadObject", obj))
        .await
        .unwrap()
        .is_allowed());
    auth.remove_member("Viewers", "viewer").await.unwrap();
    assert_eq!(
        auth.authorize(&uid("viewer"), &perm("fs:ReadObject", obj))
            .await
            .unwrap(),
        Decision::NotAllowed
    );
}

#[tokio::test]
async fn other_instances_see_changes_after_the_ttl() {
    let store = Arc::new(MemoryAuthStore::new());
    let here = service(&store, 60_000);
    let there = service(&store, 300);
    here.create_user("u", None, None).await.unwrap();
    let c = here.create_credentials("u", None).await.unwrap();
    let (key, secret) = (c.access_key_id.as_str(), c.secret_access_key.as_str());
    assert!(there.authenticate_key(key, secret).await.unwrap().is_some());
    here.delete_credentials("u", key).await.unwrap();
    assert!(
        here.authenticate_key(key, secret).await.unwrap().is_none(),
        "at once here"
    );
    assert!(
        there.authenticate_key(key, secret).await.unwrap().is_some(),
        "cached there"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        there.authenticate_key(key, secret).await.unwrap().is_none(),
        "gone after the TTL"
    );
}

#[tokio::test]
async fn passwords_authenticate_users() {
    let store = Arc::new(MemoryAuthStore::new());
    let auth = service(&store, 0);
    auth.create_user("ann", None, None).await.unwrap();
    assert_eq!(
        auth.authenticate_password("ann", "anything").await.unwrap(),
        None,
        "no password set"
    );
    assert!(matches!(
        auth.set_password("ann", "short").await,
        Err(Error::InvalidInput { .. })
    ));
    auth.set_password("ann", "long enough").await.unwrap();
    assert!(store
        .get_user(&uid("ann"))
        .await
        .unwrap()
        .password_hash
        .unwrap()
        .starts_with("$argon2id$"));
    assert_eq!(
        auth.authenticate_password("ann", "long enough")
            .await
            .unwrap(),
        Some(uid("ann"))
    );
    assert_eq!(
        auth.authenticate_password("ann", "wrong one!")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        auth.authenticate_password("nobody", "long enough")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn credentials_belong_to_their_user() {
    let store = Arc::new(MemoryAuthStore::new());
    let auth = service(&store, 0);
    auth.create_user("a", None, None).await.unwrap();
    auth.create_user("b", None, None).await.unwrap();
    let c = auth.create_credentials("a", None).await.unwrap();
    assert!(auth
        .get_credentials("a", c.access_key_id.as_str())
        .await
        .is_ok());
    assert!(matches!(
        auth.get_credentials("b", c.access_key_id.as_str()).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        auth.delete_credentials("b", c.access_key_id.as_str()).await,
        Err(Error::NotFound { .. })
    ));
    let dup = auth
        .create_credentials("b", Some((c.access_key_id.as_str().to_owned(), "x".into())))
        .await;
    assert!(matches!(dup, Err(Error::AlreadyExists { .. })));
    let listed = auth.list_credentials("a", "", "", 1).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(!listed.has_more);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_setups_leave_exactly_one_admin() {
    let store = Arc::new(MemoryAuthStore::new());
    let auth = Arc::new(service(&store, 0));
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let auth = auth.clone();
            tokio::spawn(async move { auth.setup(&format!("admin{i}"), None).await.is_ok() })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
    let admins = auth.list_members("Admins", "", "", 100).await.unwrap();
    assert_eq!(
        admins.items.len(),
        1,
        "losers take back their admin: {:?}",
        admins.items
    );
    assert_eq!(auth.list_users("", "", 100).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn ensure_setup_finishes_a_setup_that_stopped_before_recording() {
    let store = Arc::new(MemoryAuthStore::new());
    let auth = service(&store, 0);
    // As if a first run created the user and its key, then stopped.
    auth.create_user("quick", None, None).await.unwrap();
    auth.create_credentials(
        "quick",
        Some(("AKIAIOSFOLQUICKSTART".into(), "s3cret".into())),
    )
    .await
    .unwrap();
    assert!(!auth.is_initialized().await.unwrap());
    assert!(!auth
        .ensure_setup("quick", "AKIAIOSFOLQUICKSTART", "s3cret")
        .await
        .unwrap());
    assert!(
        auth.is_initialized().await.unwrap(),
        "the setup is recorded: no second admin via the API"
    );
    // Someone else's key does not finish it.
    let other = Arc::new(MemoryAuthStore::new());
    let auth = service(&other, 0);
    auth.create_user("quick", None, None).await.unwrap();
    let r = auth
        .ensure_setup("quick", "AKIAIOSFOLQUICKSTART", "s3cret")
        .await;
    assert!(
        matches!(
            r,
            Err(Error::AlreadyExists {
                entity: Entity::Setup,
                ..
            })
        ),
        "{r:?}"
    );
    assert!(!auth.is_initialized().await.unwrap());
}

#[tokio::test]
async fn password_checks_are_limited_and_unknown_users_cost_the_same() {
    let store = Arc::new(MemoryAuthStore::new());
    let auth = Arc::new(service(&store, 0));
    auth.create_user("ann", None, None).await.unwrap();
    auth.set_password("ann", "long enough").await.unwrap();
    let start = std::time::Instant::now();
    assert_eq!(
        auth.authenticate_password("nobody", "long enough")
            .await
            .unwrap(),
        None
    );
    let unknown = start.elapsed();
    let start = std::time::Instant::now();
    assert_eq!(
        auth.authenticate_password("ann", "wrong one!")
            .await
            .unwrap(),
        None
    );
    let wrong = start.elapsed();
    // Both ran a full hash (a missing user is not answered at once).
    assert!(
        unknown * 4 > wrong,
        "unknown {unknown:?} vs wrong {wrong:?}"
    );
    // With every slot taken, a check is refused at once (503), not queued.
    auth.password_checks
        .store(MAX_PASSWORD_CHECKS, std::sync::atomic::Ordering::SeqCst);
    let busy = auth.authenticate_password("ann", "long enough").await;
    assert!(matches!(busy, Err(Error::Unavailable(_))), "{busy:?}");
    assert_eq!(
        auth.password_checks
            .load(std::sync::atomic::Ordering::SeqCst),
        MAX_PASSWORD_CHECKS,
        "a refused check holds no slot"
    );
    auth.password_checks
        .store(MAX_PASSWORD_CHECKS - 1, std::sync::atomic::Ordering::SeqCst);
    let last = auth
        .authenticate_password("ann", "long enough")
        .await
        .unwrap();
    assert_eq!(last, Some(uid("ann")), "the last free slot still checks");
    assert_eq!(
        auth.password_checks
            .load(std::sync::atomic::Ordering::SeqCst),
        MAX_PASSWORD_CHECKS - 1,
        "and gives it back"
    );
}

#[tokio::test]
async fn password_checks_dropped_mid_way_give_their_slots_back() {
    use futures::FutureExt;
    let store = Arc::new(MemoryAuthStore::new());
    let auth = Arc::new(service(&store, 0));
    auth.create_user("ann", None, None).await.unwrap();
    auth.set_password("ann", "long enough").await.unwrap();
    // Logins whose clients hang up while the hash runs: each is polled
    // until it waits on its hash, then dropped. Twice as many as there
    // are slots, one after the other.
    let mut started = 0;
    for _ in 0..2 * MAX_PASSWORD_CHECKS {
        let check = auth.authenticate_password("ann", "long enough");
        if check.now_or_never().is_none() {
            started += 1;
        }
    }
    assert!(started >= MAX_PASSWORD_CHECKS, "{started} checks started");
    // Their hashes finish on their own threads, which give the slots back.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let held = auth
            .password_checks
            .load(std::sync::atomic::Ordering::SeqCst);
        if held == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{held} slots still held 20 s after their logins were dropped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // And a password login works again.
    let who = auth.authenticate_password("ann", "long enough").await;
    assert_eq!(who.unwrap(), Some(uid("ann")));
}

#[tokio::test]
async fn an_unknown_access_key_as_a_login_costs_no_hash() {
    let store = Arc::new(MemoryAuthStore::new());
    let auth = Arc::new(service(&store, 0));
    // Every slot taken: a login that needed a hash would be refused.
    auth.password_checks
        .store(MAX_PASSWORD_CHECKS, std::sync::atomic::Ordering::SeqCst);
    let junk = auth
        .authenticate_password("AKIAJUNKJUNKJUNKJUNK", "whatever")
        .await;
    assert_eq!(junk.unwrap(), None, "answered without a hash");
    // A user name still goes through a hash (here: refused, no slot).
    let user = auth.authenticate_password("ann", "whatever").await;
    assert!(matches!(user, Err(Error::Unavailable(_))), "{user:?}");
    assert!(looks_like_access_key("AKIAIOSFOLQUICKSTART"));
    assert!(!looks_like_access_key("AKIAshort"));
    assert!(!looks_like_access_key("admin"));
}
