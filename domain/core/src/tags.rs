//! Tags: immutable names for commits.

use crate::actions::{HookEvent, HookRecord};
use crate::error::{Error, PortResultExt, Result};
use crate::page::Page;
use crate::Engine;
use crate::Entity;
use tarn_model::{RepositoryId, Tag, TagName};
use tarn_ports::ErrorKind;

impl Engine {
    /// Tags the commit `target` resolves to.
    pub async fn create_tag(
        &self,
        repo: &RepositoryId,
        name: TagName,
        target: &str,
    ) -> Result<Tag> {
        let r = self.writable_repository(repo).await?;
        let commit = self.resolve_commit(repo, target).await?;
        let tag = Tag {
            name: name.clone(),
            commit_id: commit.id,
        };
        let ns = r.storage_namespace;
        // As lakeFS: an existing name is refused before any hook runs
        // (without hooks, the store's create refuses it).
        if self.hooks_on() {
            match self.stores.refs.get_tag(repo, &name).await {
                Ok(_) => return Err(Error::already_exists(Entity::Tag, &name)),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        let pre_run_id = self
            .pre_hook(tag_record(HookEvent::PreCreateTag, repo, &ns, &tag))
            .await?;
        self.stores
            .refs
            .create_tag(repo, &tag)
            .await
            .named(Entity::Tag, &name)?;
        let mut post = tag_record(HookEvent::PostCreateTag, repo, &ns, &tag);
        post.pre_run_id = pre_run_id;
        self.post_hook(post);
        Ok(tag)
    }

    /// A tag, or `NotFound`.
    pub async fn get_tag(&self, repo: &RepositoryId, name: &TagName) -> Result<Tag> {
        match self.stores.refs.get_tag(repo, name).await {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.get_repository(repo).await?;
                Err(Error::not_found(Entity::Tag, name))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Tags whose name starts with `prefix`, after `after`, at most `amount`.
    pub async fn list_tags(
        &self,
        repo: &RepositoryId,
        prefix: &str,
        after: Option<&str>,
        amount: usize,
    ) -> Result<Page<Tag>> {
        self.get_repository(repo).await?;
        let refs = &self.stores.refs;
        let fetch = |cursor: Option<String>, limit| async move {
            let cursor = cursor.and_then(|c| TagName::new(c).ok());
            Ok(refs.list_tags(repo, cursor.as_ref(), limit).await?)
        };
        crate::page::filtered(
            prefix,
            after,
            amount,
            |t: &Tag| t.name.as_str(),
            |_| true,
            fetch,
        )
        .await
    }

    /// Deletes a tag.
    pub async fn delete_tag(&self, repo: &RepositoryId, name: &TagName) -> Result<()> {
        let ns = self.writable_repository(repo).await?.storage_namespace;
        let tag = self.get_tag(repo, name).await?;
        let pre_run_id = self
            .pre_hook(tag_record(HookEvent::PreDeleteTag, repo, &ns, &tag))
            .await?;
        self.stores
            .refs
            .delete_tag(repo, name)
            .await
            .named(Entity::Tag, name)?;
        let mut post = tag_record(HookEvent::PostDeleteTag, repo, &ns, &tag);
        post.pre_run_id = pre_run_id;
        self.post_hook(post);
        Ok(())
    }
}

/// A tag event's record: files read from the tagged commit.
fn tag_record(
    event: HookEvent,
    repo: &RepositoryId,
    ns: &tarn_model::StorageNamespace,
    tag: &Tag,
) -> HookRecord {
    let mut rec = HookRecord::new(event, repo.as_str(), ns.as_str(), tag.commit_id.as_str());
    rec.tag = tag.name.to_string();
    rec.commit_id = tag.commit_id.to_string();
    rec
}
