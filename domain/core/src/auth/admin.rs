//! Managing users, groups, policies, memberships, attachments and access
//! keys. Every change clears this instance's caches.

use super::crypt::{hash_password, new_key_pair};
use super::Auth;
use crate::error::{Error, Result};
use crate::page::Page;
use crate::Entity;
use tarn_model::auth::{
    AccessKeyId, Credential, Group, GroupId, Policy, PolicyId, Statement, User, UserId,
};
use tarn_model::Timestamp;
use tarn_ports::AuthPage;

/// An access key with its secret, shown once, at creation.
#[derive(Clone)]
pub struct NewCredentials {
    /// The key id.
    pub access_key_id: AccessKeyId,
    /// The secret, in plain text.
    pub secret_access_key: String,
    /// Whose key.
    pub user: UserId,
    /// When it was created.
    pub created: Timestamp,
}

impl std::fmt::Debug for NewCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

fn user_id(s: &str) -> Result<UserId> {
    UserId::new(s).map_err(|e| Error::invalid("user id", e))
}
fn group_id(s: &str) -> Result<GroupId> {
    GroupId::new(s).map_err(|e| Error::invalid("group id", e))
}
fn policy_id(s: &str) -> Result<PolicyId> {
    PolicyId::new(s).map_err(|e| Error::invalid("policy id", e))
}

/// One page from a store listing that fetched `amount + 1` items.
async fn page<T>(
    amount: usize,
    key: impl Fn(&T) -> String,
    fetch: impl std::future::Future<Output = tarn_ports::PortResult<Vec<T>>>,
    what: (Entity, &str),
) -> Result<Page<T>> {
    let items = fetch
        .await
        .map_err(|e| Error::from_port(e, what.0, what.1))?;
    Ok(Page::from_overfetch(items, amount, key))
}

fn window<'a>(prefix: &'a str, after: &'a str, amount: usize) -> AuthPage<'a> {
    AuthPage {
        prefix,
        after,
        limit: amount + 1,
    }
}

impl Auth {
    /// Adds a user.
    pub async fn create_user(
        &self,
        id: &str,
        friendly_name: Option<String>,
        email: Option<String>,
    ) -> Result<User> {
        let user = User {
            id: user_id(id)?,
            created: self.clock.now(),
            friendly_name,
            email,
            password_hash: None,
        };
        let r = self.store.create_user(&user).await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::User, id))?;
        Ok(user)
    }

    /// Reads a user.
    pub async fn get_user(&self, id: &str) -> Result<User> {
        self.store
            .get_user(&user_id(id)?)
            .await
            .map_err(|e| Error::from_port(e, Entity::User, id))
    }

    /// Removes a user with its keys, memberships and attachments.
    pub async fn delete_user(&self, id: &str) -> Result<()> {
        let r = self.store.delete_user(&user_id(id)?).await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::User, id))
    }

    /// Sets a user's password (stored as an argon2id hash).
    pub async fn set_password(&self, id: &str, password: &str) -> Result<()> {
        if password.len() < 8 {
            return Err(Error::invalid("password", "must be at least 8 characters"));
        }
        let hash = hash_password(password).map_err(|e| Error::invalid("password", e))?;
        let r = self
            .store
            .set_password_hash(&user_id(id)?, Some(&hash))
            .await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::User, id))
    }

    /// Lists users.
    pub async fn list_users(&self, prefix: &str, after: &str, amount: usize) -> Result<Page<User>> {
        let fetch = self.store.list_users(window(prefix, after, amount));
        page(
            amount,
            |u: &User| u.id.as_str().to_owned(),
            fetch,
            (Entity::User, ""),
        )
        .await
    }

    /// Adds a group.
    pub async fn create_group(&self, id: &str, description: Option<String>) -> Result<Group> {
        let group = Group {
            id: group_id(id)?,
            created: self.clock.now(),
            description,
        };
        let r = self.store.create_group(&group).await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::Group, id))?;
        Ok(group)
    }

    /// Reads a group.
    pub async fn get_group(&self, id: &str) -> Result<Group> {
        self.store
            .get_group(&group_id(id)?)
            .await
            .map_err(|e| Error::from_port(e, Entity::Group, id))
    }

    /// Removes a group.
    pub async fn delete_group(&self, id: &str) -> Result<()> {
        let r = self.store.delete_group(&group_id(id)?).await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::Group, id))
    }

    /// Lists groups.
    pub async fn list_groups(
        &self,
        prefix: &str,
        after: &str,
        amount: usize,
    ) -> Result<Page<Group>> {
        let fetch = self.store.list_groups(window(prefix, after, amount));
        page(
            amount,
            |g: &Group| g.id.as_str().to_owned(),
            fetch,
            (Entity::Group, ""),
        )
        .await
    }

    /// Adds a policy.
    pub async fn create_policy(&self, id: &str, statements: Vec<Statement>) -> Result<Policy> {
        let policy = Policy::new(policy_id(id)?, self.clock.now(), statements)
            .map_err(|e| Error::invalid("statement", e))?;
        let r = self.store.create_policy(&policy).await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::Policy, id))?;
        Ok(policy)
    }

    /// Replaces a policy's statements.
    pub async fn update_policy(&self, id: &str, statements: Vec<Statement>) -> Result<Policy> {
        let policy = Policy::new(policy_id(id)?, self.clock.now(), statements)
            .map_err(|e| Error::invalid("statement", e))?;
        let r = self.store.update_policy(&policy).await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::Policy, id))?;
        self.get_policy(id).await
    }

    /// Reads a policy.
    pub async fn get_policy(&self, id: &str) -> Result<Policy> {
        self.store
            .get_policy(&policy_id(id)?)
            .await
            .map_err(|e| Error::from_port(e, Entity::Policy, id))
    }

    /// Removes a policy.
    pub async fn delete_policy(&self, id: &str) -> Result<()> {
        let r = self.store.delete_policy(&policy_id(id)?).await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::Policy, id))
    }

    /// Lists policies.
    pub async fn list_policies(
        &self,
        prefix: &str,
        after: &str,
        amount: usize,
    ) -> Result<Page<Policy>> {
        let fetch = self.store.list_policies(window(prefix, after, amount));
        page(
            amount,
            |p: &Policy| p.id.as_str().to_owned(),
            fetch,
            (Entity::Policy, ""),
        )
        .await
    }

    /// Puts a user in a group.
    pub async fn add_member(&self, group: &str, user: &str) -> Result<()> {
        let r = self
            .store
            .add_member(&group_id(group)?, &user_id(user)?)
            .await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::GroupOrUser, format!("{group}, {user}")))
    }

    /// Takes a user out of a group.
    pub async fn remove_member(&self, group: &str, user: &str) -> Result<()> {
        let r = self
            .store
            .remove_member(&group_id(group)?, &user_id(user)?)
            .await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::Membership, format!("{user} in {group}")))
    }

    /// A group's members.
    pub async fn list_members(
        &self,
        group: &str,
        prefix: &str,
        after: &str,
        amount: usize,
    ) -> Result<Page<User>> {
        let id = group_id(group)?;
        let fetch = self.store.list_members(&id, window(prefix, after, amount));
        page(
            amount,
            |u: &User| u.id.as_str().to_owned(),
            fetch,
            (Entity::Group, group),
        )
        .await
    }

    /// A user's groups.
    pub async fn list_user_groups(
        &self,
        user: &str,
        prefix: &str,
        after: &str,
        amount: usize,
    ) -> Result<Page<Group>> {
        let id = user_id(user)?;
        let fetch = self
            .store
            .list_user_groups(&id, window(prefix, after, amount));
        page(
            amount,
            |g: &Group| g.id.as_str().to_owned(),
            fetch,
            (Entity::User, user),
        )
        .await
    }

    /// Attaches a policy to a user.
    pub async fn attach_user_policy(&self, user: &str, policy: &str) -> Result<()> {
        let r = self
            .store
            .attach_user_policy(&user_id(user)?, &policy_id(policy)?)
            .await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::UserOrPolicy, format!("{user}, {policy}")))
    }

    /// Detaches a policy from a user.
    pub async fn detach_user_policy(&self, user: &str, policy: &str) -> Result<()> {
        let r = self
            .store
            .detach_user_policy(&user_id(user)?, &policy_id(policy)?)
            .await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::Attachment, format!("{policy} to {user}")))
    }

    /// A user's policies: attached directly, or (`effective`) also through groups.
    pub async fn list_user_policies(
        &self,
        user: &str,
        effective: bool,
        prefix: &str,
        after: &str,
        amount: usize,
    ) -> Result<Page<Policy>> {
        let id = user_id(user)?;
        if !effective {
            let fetch = self
                .store
                .list_user_policies(&id, window(prefix, after, amount));
            return page(
                amount,
                |p: &Policy| p.id.as_str().to_owned(),
                fetch,
                (Entity::User, user),
            )
            .await;
        }
        let all = self
            .store
            .effective_policies(&id)
            .await
            .map_err(|e| Error::from_port(e, Entity::User, user))?;
        let items = all
            .into_iter()
            .filter(|p| p.id.as_str().starts_with(prefix) && p.id.as_str() > after)
            .take(amount + 1)
            .collect();
        Ok(Page::from_overfetch(items, amount, |p: &Policy| {
            p.id.as_str().to_owned()
        }))
    }

    /// Attaches a policy to a group.
    pub async fn attach_group_policy(&self, group: &str, policy: &str) -> Result<()> {
        let r = self
            .store
            .attach_group_policy(&group_id(group)?, &policy_id(policy)?)
            .await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::GroupOrPolicy, format!("{group}, {policy}")))
    }

    /// Detaches a policy from a group.
    pub async fn detach_group_policy(&self, group: &str, policy: &str) -> Result<()> {
        let r = self
            .store
            .detach_group_policy(&group_id(group)?, &policy_id(policy)?)
            .await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::Attachment, format!("{policy} to {group}")))
    }

    /// A group's policies.
    pub async fn list_group_policies(
        &self,
        group: &str,
        prefix: &str,
        after: &str,
        amount: usize,
    ) -> Result<Page<Policy>> {
        let id = group_id(group)?;
        let fetch = self
            .store
            .list_group_policies(&id, window(prefix, after, amount));
        page(
            amount,
            |p: &Policy| p.id.as_str().to_owned(),
            fetch,
            (Entity::Group, group),
        )
        .await
    }

    /// Adds an access key to a user: the given pair, or a generated one.
    pub async fn create_credentials(
        &self,
        user: &str,
        key: Option<(String, String)>,
    ) -> Result<NewCredentials> {
        let (id, secret) = key.unwrap_or_else(new_key_pair);
        let access_key_id = AccessKeyId::new(id).map_err(|e| Error::invalid("access_key_id", e))?;
        if secret.is_empty() || secret.len() > 128 {
            return Err(Error::invalid(
                "secret_access_key",
                "must be 1 to 128 characters",
            ));
        }
        let credential = Credential {
            access_key_id: access_key_id.clone(),
            user: user_id(user)?,
            sealed_secret: self
                .secrets
                .seal(&secret, access_key_id.as_str())
                .map_err(|e| Error::Internal(tarn_ports::PortError::internal(e.to_string())))?,
            created: self.clock.now(),
        };
        let r = self.store.create_credential(&credential).await;
        self.invalidate();
        r.map_err(|e| match e.kind() {
            tarn_ports::ErrorKind::AlreadyExists => {
                Error::from_port(e, Entity::AccessKey, access_key_id.as_str())
            }
            _ => Error::from_port(e, Entity::User, user),
        })?;
        Ok(NewCredentials {
            access_key_id,
            secret_access_key: secret,
            user: credential.user,
            created: credential.created,
        })
    }

    /// A user's access key (`NotFound` when it is not that user's).
    pub async fn get_credentials(&self, user: &str, key: &str) -> Result<Credential> {
        let missing = || Error::not_found(Entity::Credentials, key);
        let id = AccessKeyId::new(key).map_err(|_| missing())?;
        let c = self
            .store
            .get_credential(&id)
            .await
            .map_err(|e| Error::from_port(e, Entity::Credentials, key))?;
        if c.user.as_str() != user {
            return Err(missing());
        }
        Ok(c)
    }

    /// A user's access keys.
    pub async fn list_credentials(
        &self,
        user: &str,
        prefix: &str,
        after: &str,
        amount: usize,
    ) -> Result<Page<Credential>> {
        let id = user_id(user)?;
        let fetch = self
            .store
            .list_credentials(&id, window(prefix, after, amount));
        page(
            amount,
            |c: &Credential| c.access_key_id.as_str().to_owned(),
            fetch,
            (Entity::User, user),
        )
        .await
    }

    /// Removes a user's access key; it stops working at once here.
    pub async fn delete_credentials(&self, user: &str, key: &str) -> Result<()> {
        let id = AccessKeyId::new(key).map_err(|_| Error::not_found(Entity::Credentials, key))?;
        let r = self.store.delete_credential(&user_id(user)?, &id).await;
        self.invalidate();
        r.map_err(|e| Error::from_port(e, Entity::Credentials, key))
    }
}
