//! The `AuthStore` conformance suite.

use super::assert_kind;
use crate::{AuthPage, AuthStore, ErrorKind};
use std::sync::Arc;
use tarn_model::auth::{
    AccessKeyId, Credential, Effect, Group, GroupId, Policy, PolicyId, Statement, User, UserId,
};
use tarn_model::Timestamp;

/// What an auth-store conformance case needs.
pub struct AuthFixture {
    /// The store under test, empty and fresh for this case.
    pub store: Arc<dyn AuthStore>,
    /// Keeps temporary resources alive for the case.
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

/// Runs the whole `AuthStore` suite against `$factory`, an async fn
/// returning a fresh [`AuthFixture`].
#[macro_export]
macro_rules! auth_store_conformance {
    ($factory:expr) => {
        $crate::__conformance_cases!(auth_store_conformance, auth, $factory;
            users_are_created_read_listed_and_deleted,
            user_passwords_are_set_and_cleared,
            groups_are_created_read_listed_and_deleted,
            policies_are_created_updated_and_deleted,
            memberships_link_existing_users_and_groups,
            attachments_link_existing_policies,
            effective_policies_include_groups_once,
            deletes_leave_nothing_dangling,
            credentials_are_unique_and_kept_byte_for_byte,
            setup_is_recorded_once,
            concurrent_creates_have_one_winner,
        );
    };
}

fn uid(s: &str) -> UserId {
    UserId::new(s).unwrap()
}
fn gid(s: &str) -> GroupId {
    GroupId::new(s).unwrap()
}
fn pid(s: &str) -> PolicyId {
    PolicyId::new(s).unwrap()
}
fn key(s: &str) -> AccessKeyId {
    AccessKeyId::new(s).unwrap()
}
fn at(n: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_700_000_000 + n)
}

fn user(id: &str) -> User {
    User {
        id: uid(id),
        created: at(1),
        friendly_name: Some(format!("{id} (friendly)")),
        email: Some(format!("{}@example.com", id.len())),
        password_hash: None,
    }
}

fn group(id: &str) -> Group {
    Group {
        id: gid(id),
        created: at(2),
        description: Some(format!("the {id} group")),
    }
}

fn policy(id: &str, actions: &[&str], resource: &str) -> Policy {
    let statements = vec![
        Statement::new(
            Effect::Allow,
            actions.iter().map(|a| (*a).to_owned()).collect(),
            resource,
        )
        .unwrap(),
        Statement::new(
            Effect::Deny,
            vec!["fs:DeleteRepository".to_owned()],
            "arn:lakefs:fs:::repository/${user}-*",
        )
        .unwrap(),
    ];
    Policy::new(pid(id), at(3), statements).unwrap()
}

fn credential(id: &str, user: &str, secret: &[u8]) -> Credential {
    Credential {
        access_key_id: key(id),
        user: uid(user),
        sealed_secret: secret.to_vec(),
        created: at(4),
    }
}

fn page<'a>(prefix: &'a str, after: &'a str, limit: usize) -> AuthPage<'a> {
    AuthPage {
        prefix,
        after,
        limit,
    }
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| id(i).to_owned()).collect()
}

pub async fn users_are_created_read_listed_and_deleted(f: AuthFixture) {
    let s = &f.store;
    let names = [
        "bob",
        "alice",
        "al ice ✓",
        "al%_x",
        "zed@example.com",
        "Alan",
    ];
    for n in names {
        s.create_user(&user(n)).await.unwrap();
    }
    assert_kind(
        s.create_user(&user("bob")).await,
        ErrorKind::AlreadyExists,
        "duplicate user",
    );
    assert_eq!(
        s.get_user(&uid("al ice ✓")).await.unwrap(),
        user("al ice ✓")
    );
    assert_kind(
        s.get_user(&uid("carol")).await,
        ErrorKind::NotFound,
        "missing user",
    );

    let all = s.list_users(AuthPage::all(100)).await.unwrap();
    let mut sorted: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    sorted.sort();
    assert_eq!(ids(&all, |u| u.id.as_str()), sorted);
    let al = s.list_users(page("al", "", 100)).await.unwrap();
    assert_eq!(ids(&al, |u| u.id.as_str()), ["al ice ✓", "al%_x", "alice"]);
    let like = s.list_users(page("al%", "", 100)).await.unwrap();
    assert_eq!(
        ids(&like, |u| u.id.as_str()),
        ["al%_x"],
        "prefix is literal"
    );
    let after = s.list_users(page("al", "al%_x", 1)).await.unwrap();
    assert_eq!(ids(&after, |u| u.id.as_str()), ["alice"]);

    s.delete_user(&uid("bob")).await.unwrap();
    assert_kind(
        s.get_user(&uid("bob")).await,
        ErrorKind::NotFound,
        "deleted user",
    );
    assert_kind(
        s.delete_user(&uid("bob")).await,
        ErrorKind::NotFound,
        "delete twice",
    );
}

pub async fn user_passwords_are_set_and_cleared(f: AuthFixture) {
    let s = &f.store;
    s.create_user(&user("u")).await.unwrap();
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
    s.set_password_hash(&uid("u"), Some(hash)).await.unwrap();
    assert_eq!(
        s.get_user(&uid("u"))
            .await
            .unwrap()
            .password_hash
            .as_deref(),
        Some(hash)
    );
    s.set_password_hash(&uid("u"), None).await.unwrap();
    assert_eq!(s.get_user(&uid("u")).await.unwrap().password_hash, None);
    assert_kind(
        s.set_password_hash(&uid("nobody"), Some(hash)).await,
        ErrorKind::NotFound,
        "missing user",
    );
}

pub async fn groups_are_created_read_listed_and_deleted(f: AuthFixture) {
    let s = &f.store;
    for g in ["Viewers", "Admins", "Developers"] {
        s.create_group(&group(g)).await.unwrap();
    }
    let bare = Group {
        id: gid("Bare"),
        created: at(9),
        description: None,
    };
    s.create_group(&bare).await.unwrap();
    assert_eq!(s.get_group(&gid("Bare")).await.unwrap(), bare);
    assert_kind(
        s.create_group(&group("Admins")).await,
        ErrorKind::AlreadyExists,
        "duplicate group",
    );
    assert_eq!(s.get_group(&gid("Admins")).await.unwrap(), group("Admins"));
    let all = s.list_groups(AuthPage::all(2)).await.unwrap();
    assert_eq!(ids(&all, |g| g.id.as_str()), ["Admins", "Bare"]);
    let next = s.list_groups(page("", "Bare", 10)).await.unwrap();
    assert_eq!(ids(&next, |g| g.id.as_str()), ["Developers", "Viewers"]);
    s.delete_group(&gid("Admins")).await.unwrap();
    assert_kind(
        s.get_group(&gid("Admins")).await,
        ErrorKind::NotFound,
        "deleted group",
    );
    assert_kind(
        s.delete_group(&gid("Admins")).await,
        ErrorKind::NotFound,
        "delete twice",
    );
}

pub async fn policies_are_created_updated_and_deleted(f: AuthFixture) {
    let s = &f.store;
    let p = policy("ReadAll", &["fs:Read*", "fs:List*"], "*");
    s.create_policy(&p).await.unwrap();
    assert_eq!(s.get_policy(&pid("ReadAll")).await.unwrap(), p);
    assert_kind(
        s.create_policy(&p).await,
        ErrorKind::AlreadyExists,
        "duplicate policy",
    );

    let changed = Policy::new(
        pid("ReadAll"),
        at(50),
        vec![Statement::new(
            Effect::Allow,
            vec!["fs:ReadObject".into()],
            "arn:lakefs:fs:::repository/r/object/*",
        )
        .unwrap()],
    )
    .unwrap();
    s.update_policy(&changed).await.unwrap();
    let got = s.get_policy(&pid("ReadAll")).await.unwrap();
    assert_eq!(got.statements(), changed.statements());
    assert_eq!(got.created, p.created, "an update keeps the creation time");
    let ghost = policy("Ghost", &["fs:*"], "*");
    assert_kind(
        s.update_policy(&ghost).await,
        ErrorKind::NotFound,
        "update missing",
    );

    s.create_policy(&policy("Admin", &["*"], "*"))
        .await
        .unwrap();
    let listed = s.list_policies(AuthPage::all(10)).await.unwrap();
    assert_eq!(ids(&listed, |p| p.id.as_str()), ["Admin", "ReadAll"]);
    s.delete_policy(&pid("Admin")).await.unwrap();
    assert_kind(
        s.get_policy(&pid("Admin")).await,
        ErrorKind::NotFound,
        "deleted policy",
    );
    assert_kind(
        s.delete_policy(&pid("Admin")).await,
        ErrorKind::NotFound,
        "delete twice",
    );
}

pub async fn memberships_link_existing_users_and_groups(f: AuthFixture) {
    let s = &f.store;
    for u in ["ann", "ben", "cat"] {
        s.create_user(&user(u)).await.unwrap();
    }
    for g in ["devs", "ops"] {
        s.create_group(&group(g)).await.unwrap();
    }
    s.add_member(&gid("devs"), &uid("ben")).await.unwrap();
    s.add_member(&gid("devs"), &uid("ann")).await.unwrap();
    s.add_member(&gid("devs"), &uid("ann")).await.unwrap();
    s.add_member(&gid("ops"), &uid("ann")).await.unwrap();
    assert_kind(
        s.add_member(&gid("nope"), &uid("ann")).await,
        ErrorKind::NotFound,
        "missing group",
    );
    assert_kind(
        s.add_member(&gid("devs"), &uid("nobody")).await,
        ErrorKind::NotFound,
        "missing user",
    );

    let members = s
        .list_members(&gid("devs"), AuthPage::all(10))
        .await
        .unwrap();
    assert_eq!(ids(&members, |u| u.id.as_str()), ["ann", "ben"]);
    assert_eq!(members[0], user("ann"), "members are whole users");
    let after = s
        .list_members(&gid("devs"), page("", "ann", 10))
        .await
        .unwrap();
    assert_eq!(ids(&after, |u| u.id.as_str()), ["ben"]);
    let groups = s
        .list_user_groups(&uid("ann"), AuthPage::all(10))
        .await
        .unwrap();
    assert_eq!(ids(&groups, |g| g.id.as_str()), ["devs", "ops"]);
    assert!(s
        .list_user_groups(&uid("cat"), AuthPage::all(10))
        .await
        .unwrap()
        .is_empty());
    assert_kind(
        s.list_members(&gid("nope"), AuthPage::all(10)).await,
        ErrorKind::NotFound,
        "members of missing group",
    );
    assert_kind(
        s.list_user_groups(&uid("nobody"), AuthPage::all(10)).await,
        ErrorKind::NotFound,
        "groups of missing user",
    );

    s.remove_member(&gid("devs"), &uid("ann")).await.unwrap();
    assert_kind(
        s.remove_member(&gid("devs"), &uid("ann")).await,
        ErrorKind::NotFound,
        "remove twice",
    );
    let members = s
        .list_members(&gid("devs"), AuthPage::all(10))
        .await
        .unwrap();
    assert_eq!(ids(&members, |u| u.id.as_str()), ["ben"]);
}

pub async fn attachments_link_existing_policies(f: AuthFixture) {
    let s = &f.store;
    s.create_user(&user("ann")).await.unwrap();
    s.create_group(&group("devs")).await.unwrap();
    for p in ["B", "A", "C"] {
        s.create_policy(&policy(p, &["fs:ReadObject"], "*"))
            .await
            .unwrap();
    }
    s.attach_user_policy(&uid("ann"), &pid("B")).await.unwrap();
    s.attach_user_policy(&uid("ann"), &pid("A")).await.unwrap();
    s.attach_user_policy(&uid("ann"), &pid("A")).await.unwrap();
    s.attach_group_policy(&gid("devs"), &pid("C"))
        .await
        .unwrap();
    assert_kind(
        s.attach_user_policy(&uid("ann"), &pid("Z")).await,
        ErrorKind::NotFound,
        "missing policy",
    );
    assert_kind(
        s.attach_user_policy(&uid("nobody"), &pid("A")).await,
        ErrorKind::NotFound,
        "missing user",
    );
    assert_kind(
        s.attach_group_policy(&gid("nope"), &pid("A")).await,
        ErrorKind::NotFound,
        "missing group",
    );
    assert_kind(
        s.attach_group_policy(&gid("devs"), &pid("Z")).await,
        ErrorKind::NotFound,
        "missing policy",
    );

    let mine = s
        .list_user_policies(&uid("ann"), AuthPage::all(10))
        .await
        .unwrap();
    assert_eq!(ids(&mine, |p| p.id.as_str()), ["A", "B"]);
    assert_eq!(
        mine[0],
        policy("A", &["fs:ReadObject"], "*"),
        "whole policies"
    );
    let paged = s
        .list_user_policies(&uid("ann"), page("", "A", 10))
        .await
        .unwrap();
    assert_eq!(ids(&paged, |p| p.id.as_str()), ["B"]);
    let theirs = s
        .list_group_policies(&gid("devs"), AuthPage::all(10))
        .await
        .unwrap();
    assert_eq!(ids(&theirs, |p| p.id.as_str()), ["C"]);
    assert_kind(
        s.list_user_policies(&uid("nobody"), AuthPage::all(10))
            .await,
        ErrorKind::NotFound,
        "policies of missing user",
    );
    assert_kind(
        s.list_group_policies(&gid("nope"), AuthPage::all(10)).await,
        ErrorKind::NotFound,
        "policies of missing group",
    );

    s.detach_user_policy(&uid("ann"), &pid("A")).await.unwrap();
    assert_kind(
        s.detach_user_policy(&uid("ann"), &pid("A")).await,
        ErrorKind::NotFound,
        "detach twice",
    );
    s.detach_group_policy(&gid("devs"), &pid("C"))
        .await
        .unwrap();
    assert_kind(
        s.detach_group_policy(&gid("devs"), &pid("C")).await,
        ErrorKind::NotFound,
        "detach twice",
    );
    let mine = s
        .list_user_policies(&uid("ann"), AuthPage::all(10))
        .await
        .unwrap();
    assert_eq!(ids(&mine, |p| p.id.as_str()), ["B"]);
}

pub async fn effective_policies_include_groups_once(f: AuthFixture) {
    let s = &f.store;
    s.create_user(&user("ann")).await.unwrap();
    s.create_user(&user("ben")).await.unwrap();
    for g in ["g1", "g2"] {
        s.create_group(&group(g)).await.unwrap();
        s.add_member(&gid(g), &uid("ann")).await.unwrap();
    }
    for p in ["Direct", "Shared", "G2only", "Unused"] {
        s.create_policy(&policy(p, &["fs:ReadObject"], "*"))
            .await
            .unwrap();
    }
    s.attach_user_policy(&uid("ann"), &pid("Direct"))
        .await
        .unwrap();
    s.attach_user_policy(&uid("ann"), &pid("Shared"))
        .await
        .unwrap();
    s.attach_group_policy(&gid("g1"), &pid("Shared"))
        .await
        .unwrap();
    s.attach_group_policy(&gid("g2"), &pid("Shared"))
        .await
        .unwrap();
    s.attach_group_policy(&gid("g2"), &pid("G2only"))
        .await
        .unwrap();
    let eff = s.effective_policies(&uid("ann")).await.unwrap();
    assert_eq!(ids(&eff, |p| p.id.as_str()), ["Direct", "G2only", "Shared"]);
    assert_eq!(eff[0], policy("Direct", &["fs:ReadObject"], "*"));
    assert!(s.effective_policies(&uid("ben")).await.unwrap().is_empty());
    assert_kind(
        s.effective_policies(&uid("nobody")).await,
        ErrorKind::NotFound,
        "missing user",
    );
}

pub async fn deletes_leave_nothing_dangling(f: AuthFixture) {
    let s = &f.store;
    s.create_user(&user("ann")).await.unwrap();
    s.create_group(&group("devs")).await.unwrap();
    s.create_policy(&policy("P", &["fs:*"], "*")).await.unwrap();
    s.create_policy(&policy("Q", &["fs:*"], "*")).await.unwrap();
    s.add_member(&gid("devs"), &uid("ann")).await.unwrap();
    s.attach_user_policy(&uid("ann"), &pid("P")).await.unwrap();
    s.attach_group_policy(&gid("devs"), &pid("Q"))
        .await
        .unwrap();
    s.create_credential(&credential("AKIAANN", "ann", b"sealed"))
        .await
        .unwrap();

    // A policy's deletion detaches it everywhere.
    s.delete_policy(&pid("P")).await.unwrap();
    let eff = s.effective_policies(&uid("ann")).await.unwrap();
    assert_eq!(ids(&eff, |p| p.id.as_str()), ["Q"]);
    // A recreated policy of the same id starts unattached.
    s.create_policy(&policy("P", &["fs:*"], "*")).await.unwrap();
    assert!(s
        .list_user_policies(&uid("ann"), AuthPage::all(10))
        .await
        .unwrap()
        .is_empty());

    // A group's deletion ends its memberships and attachments.
    s.delete_group(&gid("devs")).await.unwrap();
    assert!(s
        .list_user_groups(&uid("ann"), AuthPage::all(10))
        .await
        .unwrap()
        .is_empty());
    assert!(s.effective_policies(&uid("ann")).await.unwrap().is_empty());
    s.create_group(&group("devs")).await.unwrap();
    assert!(s
        .list_members(&gid("devs"), AuthPage::all(10))
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .list_group_policies(&gid("devs"), AuthPage::all(10))
        .await
        .unwrap()
        .is_empty());

    // A user's deletion takes its keys, memberships and attachments.
    s.add_member(&gid("devs"), &uid("ann")).await.unwrap();
    s.attach_user_policy(&uid("ann"), &pid("Q")).await.unwrap();
    s.delete_user(&uid("ann")).await.unwrap();
    assert_kind(
        s.get_credential(&key("AKIAANN")).await,
        ErrorKind::NotFound,
        "key of deleted user",
    );
    assert!(s
        .list_members(&gid("devs"), AuthPage::all(10))
        .await
        .unwrap()
        .is_empty());
    s.create_user(&user("ann")).await.unwrap();
    assert!(s.effective_policies(&uid("ann")).await.unwrap().is_empty());
    assert!(s
        .list_credentials(&uid("ann"), AuthPage::all(10))
        .await
        .unwrap()
        .is_empty());
}

pub async fn credentials_are_unique_and_kept_byte_for_byte(f: AuthFixture) {
    let s = &f.store;
    s.create_user(&user("ann")).await.unwrap();
    s.create_user(&user("ben")).await.unwrap();
    let bytes: Vec<u8> = (0..=255).collect();
    let c = credential("AKIAJBBBBBBBBBBBBBBQ", "ann", &bytes);
    s.create_credential(&c).await.unwrap();
    s.create_credential(&credential("AKIAJAAAAAAAAAAAAAAQ", "ann", b"x"))
        .await
        .unwrap();
    s.create_credential(&credential("AKIAJCCCCCCCCCCCCCCQ", "ben", b"y"))
        .await
        .unwrap();
    assert_eq!(s.get_credential(&c.access_key_id).await.unwrap(), c);
    assert_kind(
        s.create_credential(&credential("AKIAJBBBBBBBBBBBBBBQ", "ben", b"z"))
            .await,
        ErrorKind::AlreadyExists,
        "a key id is unique across users",
    );
    assert_kind(
        s.create_credential(&credential("AKIAJDDDD", "nobody", b"z"))
            .await,
        ErrorKind::NotFound,
        "missing user",
    );
    let anns = s
        .list_credentials(&uid("ann"), AuthPage::all(10))
        .await
        .unwrap();
    assert_eq!(
        ids(&anns, |c| c.access_key_id.as_str()),
        ["AKIAJAAAAAAAAAAAAAAQ", "AKIAJBBBBBBBBBBBBBBQ"]
    );
    let next = s
        .list_credentials(&uid("ann"), page("", "AKIAJAAAAAAAAAAAAAAQ", 10))
        .await
        .unwrap();
    assert_eq!(
        ids(&next, |c| c.access_key_id.as_str()),
        ["AKIAJBBBBBBBBBBBBBBQ"]
    );
    assert_kind(
        s.list_credentials(&uid("nobody"), AuthPage::all(10)).await,
        ErrorKind::NotFound,
        "keys of missing user",
    );
    assert_kind(
        s.delete_credential(&uid("ben"), &c.access_key_id).await,
        ErrorKind::NotFound,
        "another user's key",
    );
    s.delete_credential(&uid("ann"), &c.access_key_id)
        .await
        .unwrap();
    assert_kind(
        s.get_credential(&c.access_key_id).await,
        ErrorKind::NotFound,
        "deleted key",
    );
    assert_kind(
        s.delete_credential(&uid("ann"), &c.access_key_id).await,
        ErrorKind::NotFound,
        "delete twice",
    );
}

pub async fn setup_is_recorded_once(f: AuthFixture) {
    let s = &f.store;
    assert_eq!(s.initialized().await.unwrap(), None);
    assert!(s.mark_initialized(at(10)).await.unwrap());
    assert!(!s.mark_initialized(at(20)).await.unwrap());
    assert_eq!(s.initialized().await.unwrap(), Some(at(10)));
}

pub async fn concurrent_creates_have_one_winner(f: AuthFixture) {
    let s = f.store.clone();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut u = user("racer");
                u.friendly_name = Some(format!("attempt {i}"));
                let made = s.create_user(&u).await;
                let marked = s.mark_initialized(at(i)).await.unwrap();
                (made.is_ok(), marked)
            })
        })
        .collect();
    let mut users = 0;
    let mut marks = 0;
    for t in tasks {
        let (made, marked) = t.await.unwrap();
        users += usize::from(made);
        marks += usize::from(marked);
    }
    assert_eq!(
        (users, marks),
        (1, 1),
        "exactly one create and one setup mark win"
    );
}
