//! `AuthStore` in memory: maps keyed by id, with the links in ordered sets.

use crate::lock;
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Mutex;
use tarn_model::auth::{AccessKeyId, Credential, Group, GroupId, Policy, PolicyId, User, UserId};
use tarn_model::Timestamp;
use tarn_ports::{AuthPage, AuthStore, PortError, PortResult};

#[derive(Default)]
struct State {
    users: BTreeMap<String, User>,
    groups: BTreeMap<String, Group>,
    policies: BTreeMap<String, Policy>,
    credentials: BTreeMap<String, Credential>,
    /// (group, user)
    members: BTreeSet<(String, String)>,
    /// (user, policy)
    user_policies: BTreeSet<(String, String)>,
    /// (group, policy)
    group_policies: BTreeSet<(String, String)>,
    initialized: Option<Timestamp>,
}

/// An `AuthStore` in memory.
#[derive(Default)]
pub struct MemoryAuthStore {
    state: Mutex<State>,
}

impl MemoryAuthStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn missing(what: &str, id: &str) -> PortError {
    PortError::not_found(format!("{what} {id} not found"))
}

/// The ids of `ids` that fit `page`, in order.
fn paged<'a>(ids: impl Iterator<Item = &'a String>, page: AuthPage<'_>) -> Vec<&'a String> {
    ids.filter(|id| id.starts_with(page.prefix) && id.as_str() > page.after)
        .take(page.limit)
        .collect()
}

/// The second halves of the pairs in `set` whose first half is `first`.
fn linked<'a>(
    set: &'a BTreeSet<(String, String)>,
    first: &'a str,
) -> impl Iterator<Item = &'a String> {
    let start = (first.to_owned(), String::new());
    set.range((Bound::Included(start), Bound::Unbounded))
        .take_while(move |(f, _)| f == first)
        .map(|(_, s)| s)
}

impl State {
    fn user(&self, id: &UserId) -> PortResult<&User> {
        self.users
            .get(id.as_str())
            .ok_or_else(|| missing("user", id.as_str()))
    }
    fn group(&self, id: &GroupId) -> PortResult<&Group> {
        self.groups
            .get(id.as_str())
            .ok_or_else(|| missing("group", id.as_str()))
    }
    fn policy(&self, id: &PolicyId) -> PortResult<&Policy> {
        self.policies
            .get(id.as_str())
            .ok_or_else(|| missing("policy", id.as_str()))
    }
    fn policies_of(&self, ids: Vec<&String>) -> Vec<Policy> {
        ids.into_iter()
            .filter_map(|p| self.policies.get(p))
            .cloned()
            .collect()
    }
}

fn unlink(
    set: &mut BTreeSet<(String, String)>,
    pair: (String, String),
    what: &str,
) -> PortResult<()> {
    if set.remove(&pair) {
        Ok(())
    } else {
        Err(missing(what, &format!("{}/{}", pair.0, pair.1)))
    }
}

#[async_trait]
impl AuthStore for MemoryAuthStore {
    async fn create_user(&self, user: &User) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        if s.users.contains_key(user.id.as_str()) {
            return Err(PortError::already_exists(format!(
                "user {} exists",
                user.id
            )));
        }
        s.users.insert(user.id.as_str().to_owned(), user.clone());
        Ok(())
    }

    async fn get_user(&self, id: &UserId) -> PortResult<User> {
        lock(&self.state)?.user(id).cloned()
    }

    async fn set_password_hash(&self, id: &UserId, hash: Option<&str>) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        let user = s
            .users
            .get_mut(id.as_str())
            .ok_or_else(|| missing("user", id.as_str()))?;
        user.password_hash = hash.map(str::to_owned);
        Ok(())
    }

    async fn delete_user(&self, id: &UserId) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        s.users
            .remove(id.as_str())
            .ok_or_else(|| missing("user", id.as_str()))?;
        s.credentials.retain(|_, c| c.user != *id);
        s.members.retain(|(_, u)| u != id.as_str());
        s.user_policies.retain(|(u, _)| u != id.as_str());
        Ok(())
    }

    async fn list_users(&self, page: AuthPage<'_>) -> PortResult<Vec<User>> {
        let s = lock(&self.state)?;
        Ok(paged(s.users.keys(), page)
            .into_iter()
            .map(|k| s.users[k].clone())
            .collect())
    }

    async fn create_group(&self, group: &Group) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        if s.groups.contains_key(group.id.as_str()) {
            return Err(PortError::already_exists(format!(
                "group {} exists",
                group.id
            )));
        }
        s.groups.insert(group.id.as_str().to_owned(), group.clone());
        Ok(())
    }

    async fn get_group(&self, id: &GroupId) -> PortResult<Group> {
        lock(&self.state)?.group(id).cloned()
    }

    async fn delete_group(&self, id: &GroupId) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        s.groups
            .remove(id.as_str())
            .ok_or_else(|| missing("group", id.as_str()))?;
        s.members.retain(|(g, _)| g != id.as_str());
        s.group_policies.retain(|(g, _)| g != id.as_str());
        Ok(())
    }

    async fn list_groups(&self, page: AuthPage<'_>) -> PortResult<Vec<Group>> {
        let s = lock(&self.state)?;
        Ok(paged(s.groups.keys(), page)
            .into_iter()
            .map(|k| s.groups[k].clone())
            .collect())
    }

    async fn create_policy(&self, policy: &Policy) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        if s.policies.contains_key(policy.id.as_str()) {
            return Err(PortError::already_exists(format!(
                "policy {} exists",
                policy.id
            )));
        }
        s.policies
            .insert(policy.id.as_str().to_owned(), policy.clone());
        Ok(())
    }

    async fn update_policy(&self, policy: &Policy) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        let old = s.policy(&policy.id)?.created;
        let updated = Policy::new(policy.id.clone(), old, policy.statements().to_vec())
            .map_err(|e| PortError::invalid_input(e.to_string()))?;
        s.policies.insert(policy.id.as_str().to_owned(), updated);
        Ok(())
    }

    async fn get_policy(&self, id: &PolicyId) -> PortResult<Policy> {
        lock(&self.state)?.policy(id).cloned()
    }

    async fn delete_policy(&self, id: &PolicyId) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        s.policies
            .remove(id.as_str())
            .ok_or_else(|| missing("policy", id.as_str()))?;
        s.user_policies.retain(|(_, p)| p != id.as_str());
        s.group_policies.retain(|(_, p)| p != id.as_str());
        Ok(())
    }

    async fn list_policies(&self, page: AuthPage<'_>) -> PortResult<Vec<Policy>> {
        let s = lock(&self.state)?;
        Ok(paged(s.policies.keys(), page)
            .into_iter()
            .map(|k| s.policies[k].clone())
            .collect())
    }

    async fn add_member(&self, group: &GroupId, user: &UserId) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        s.group(group)?;
        s.user(user)?;
        s.members
            .insert((group.as_str().to_owned(), user.as_str().to_owned()));
        Ok(())
    }

    async fn remove_member(&self, group: &GroupId, user: &UserId) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        let pair = (group.as_str().to_owned(), user.as_str().to_owned());
        unlink(&mut s.members, pair, "membership")
    }

    async fn list_members(&self, group: &GroupId, page: AuthPage<'_>) -> PortResult<Vec<User>> {
        let s = lock(&self.state)?;
        s.group(group)?;
        let ids = paged(linked(&s.members, group.as_str()), page);
        Ok(ids
            .into_iter()
            .filter_map(|u| s.users.get(u))
            .cloned()
            .collect())
    }

    async fn list_user_groups(&self, user: &UserId, page: AuthPage<'_>) -> PortResult<Vec<Group>> {
        let s = lock(&self.state)?;
        s.user(user)?;
        let mine: BTreeSet<&String> = s
            .members
            .iter()
            .filter(|(_, u)| u == user.as_str())
            .map(|(g, _)| g)
            .collect();
        let ids = paged(mine.into_iter(), page);
        Ok(ids
            .into_iter()
            .filter_map(|g| s.groups.get(g))
            .cloned()
            .collect())
    }

    async fn attach_user_policy(&self, user: &UserId, policy: &PolicyId) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        s.user(user)?;
        s.policy(policy)?;
        s.user_policies
            .insert((user.as_str().to_owned(), policy.as_str().to_owned()));
        Ok(())
    }

    async fn detach_user_policy(&self, user: &UserId, policy: &PolicyId) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        let pair = (user.as_str().to_owned(), policy.as_str().to_owned());
        unlink(&mut s.user_policies, pair, "attachment")
    }

    async fn list_user_policies(
        &self,
        user: &UserId,
        page: AuthPage<'_>,
    ) -> PortResult<Vec<Policy>> {
        let s = lock(&self.state)?;
        s.user(user)?;
        Ok(s.policies_of(paged(linked(&s.user_policies, user.as_str()), page)))
    }

    async fn attach_group_policy(&self, group: &GroupId, policy: &PolicyId) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        s.group(group)?;
        s.policy(policy)?;
        s.group_policies
            .insert((group.as_str().to_owned(), policy.as_str().to_owned()));
        Ok(())
    }

    async fn detach_group_policy(&self, group: &GroupId, policy: &PolicyId) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        let pair = (group.as_str().to_owned(), policy.as_str().to_owned());
        unlink(&mut s.group_policies, pair, "attachment")
    }

    async fn list_group_policies(
        &self,
        group: &GroupId,
        page: AuthPage<'_>,
    ) -> PortResult<Vec<Policy>> {
        let s = lock(&self.state)?;
        s.group(group)?;
        Ok(s.policies_of(paged(linked(&s.group_policies, group.as_str()), page)))
    }

    async fn effective_policies(&self, user: &UserId) -> PortResult<Vec<Policy>> {
        let s = lock(&self.state)?;
        s.user(user)?;
        let mut ids: BTreeSet<&String> = linked(&s.user_policies, user.as_str()).collect();
        for (g, u) in &s.members {
            if u == user.as_str() {
                ids.extend(linked(&s.group_policies, g));
            }
        }
        Ok(s.policies_of(ids.into_iter().collect()))
    }

    async fn create_credential(&self, credential: &Credential) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        s.user(&credential.user)?;
        let id = credential.access_key_id.as_str();
        if s.credentials.contains_key(id) {
            return Err(PortError::already_exists(format!("access key {id} exists")));
        }
        s.credentials.insert(id.to_owned(), credential.clone());
        Ok(())
    }

    async fn get_credential(&self, id: &AccessKeyId) -> PortResult<Credential> {
        lock(&self.state)?
            .credentials
            .get(id.as_str())
            .cloned()
            .ok_or_else(|| missing("access key", id.as_str()))
    }

    async fn list_credentials(
        &self,
        user: &UserId,
        page: AuthPage<'_>,
    ) -> PortResult<Vec<Credential>> {
        let s = lock(&self.state)?;
        s.user(user)?;
        let mine = s
            .credentials
            .iter()
            .filter(|(_, c)| c.user == *user)
            .map(|(k, _)| k);
        Ok(paged(mine, page)
            .into_iter()
            .map(|k| s.credentials[k].clone())
            .collect())
    }

    async fn delete_credential(&self, user: &UserId, id: &AccessKeyId) -> PortResult<()> {
        let mut s = lock(&self.state)?;
        match s.credentials.get(id.as_str()) {
            Some(c) if c.user == *user => {
                s.credentials.remove(id.as_str());
                Ok(())
            }
            _ => Err(missing("access key", id.as_str())),
        }
    }

    async fn mark_initialized(&self, at: Timestamp) -> PortResult<bool> {
        let mut s = lock(&self.state)?;
        if s.initialized.is_some() {
            return Ok(false);
        }
        s.initialized = Some(at);
        Ok(true)
    }

    async fn initialized(&self) -> PortResult<Option<Timestamp>> {
        Ok(lock(&self.state)?.initialized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tarn_ports::testkit::AuthFixture;

    async fn fixture() -> AuthFixture {
        AuthFixture {
            store: Arc::new(MemoryAuthStore::new()),
            guard: Box::new(()),
        }
    }

    tarn_ports::auth_store_conformance!(fixture);
}
