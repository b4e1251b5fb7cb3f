//! First-run setup: the built-in groups and policies, then the admin with
//! its first access key (lakeFS's `CreateInitialAdminUserWithKeys`).

use super::{Auth, NewCredentials};
use crate::error::{Error, Result};
use crate::Entity;
use tarn_model::auth::{builtin_groups, builtin_policies, GroupId, UserId, ADMINS_GROUP};
use tarn_model::Timestamp;
use tarn_ports::ErrorKind;

/// What answers a second setup.
fn already_set_up() -> Error {
    Error::AlreadyExists {
        entity: Entity::Setup,
        name: "this server is already set up".to_owned(),
    }
}

/// `Ok` for `AlreadyExists`: setup steps may be repeated.
fn tolerate_existing(r: tarn_ports::PortResult<()>) -> Result<()> {
    match r {
        Err(e) if e.kind() != ErrorKind::AlreadyExists => Err(e.into()),
        _ => Ok(()),
    }
}

impl Auth {
    /// Whether setup has run.
    pub async fn is_initialized(&self) -> Result<bool> {
        Ok(self.store.initialized().await?.is_some())
    }

    /// Creates the built-in groups and policies where missing.
    async fn create_builtins(&self, now: Timestamp) -> Result<()> {
        let invalid = |e: tarn_model::InvalidValue| {
            Error::Internal(tarn_ports::PortError::internal(e.to_string()))
        };
        for policy in builtin_policies(now).map_err(invalid)? {
            tolerate_existing(self.store.create_policy(&policy).await)?;
        }
        for group in builtin_groups().map_err(invalid)? {
            let record = tarn_model::auth::Group {
                id: group.id.clone(),
                created: now,
                description: None,
            };
            tolerate_existing(self.store.create_group(&record).await)?;
            for policy in &group.policies {
                self.store.attach_group_policy(&group.id, policy).await?;
            }
        }
        Ok(())
    }

    /// Sets the server up: built-in groups and policies, and `username` as a
    /// member of Admins with the given key pair or a generated one.
    /// A server already set up answers `AlreadyExists`.
    pub async fn setup(
        &self,
        username: &str,
        key: Option<(String, String)>,
    ) -> Result<NewCredentials> {
        if self.is_initialized().await? {
            return Err(already_set_up());
        }
        let user = UserId::new(username).map_err(|e| Error::invalid("username", e))?;
        let now = self.clock.now();
        let result = self.setup_steps(&user, key, now).await;
        self.invalidate();
        let credentials = result?;
        if !self.store.mark_initialized(now).await? {
            // Another setup won the race: take back the admin made here.
            if let Err(e) = self.store.delete_user(&user).await {
                tracing::warn!(user = %user, error = %e, "cannot remove the admin of a setup that lost a race");
            }
            self.invalidate();
            return Err(already_set_up());
        }
        tracing::info!(user = %user, "setup done: admin created");
        Ok(credentials)
    }

    async fn setup_steps(
        &self,
        user: &UserId,
        key: Option<(String, String)>,
        now: Timestamp,
    ) -> Result<NewCredentials> {
        self.create_builtins(now).await?;
        self.create_user(user.as_str(), None, None).await?;
        let admins = GroupId::new(ADMINS_GROUP).map_err(|e| Error::invalid("group", e))?;
        self.store
            .add_member(&admins, user)
            .await
            .map_err(|e| Error::from_port(e, Entity::Group, ADMINS_GROUP))?;
        self.create_credentials(user.as_str(), key).await
    }

    /// Makes sure a server is set up with `username` holding the given key
    /// (quickstart, `tarn setup` on an existing server). Another instance
    /// doing the same at once is not an error. Returns whether this call
    /// did the setup.
    pub async fn ensure_setup(
        &self,
        username: &str,
        access_key_id: &str,
        secret: &str,
    ) -> Result<bool> {
        if self.is_initialized().await? {
            return Ok(false);
        }
        match self
            .setup(
                username,
                Some((access_key_id.to_owned(), secret.to_owned())),
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(Error::AlreadyExists { .. }) => {
                // Raced another instance, or an earlier run stopped before
                // recording the setup: fine if this key is the user's.
                match self.authenticate_key(access_key_id, secret).await? {
                    Some(owner) if owner.as_str() == username => {
                        self.store.mark_initialized(self.clock.now()).await?;
                        Ok(false)
                    }
                    _ => Err(already_set_up()),
                }
            }
            Err(e) => Err(e),
        }
    }
}
