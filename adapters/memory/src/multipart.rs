use crate::lock;
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Mutex;
use tarn_model::{MultipartUpload, PartNumber, PartRecord, RepositoryId, UploadId};
use tarn_ports::{MultipartStore, PortError, PortResult};

#[derive(Default)]
struct State {
    uploads: HashMap<UploadId, (MultipartUpload, BTreeMap<PartNumber, PartRecord>)>,
    /// (repository, gateway key, upload id): the listing order.
    index: BTreeMap<(RepositoryId, String, UploadId), ()>,
}

/// A `MultipartStore` in memory.
#[derive(Default)]
pub struct MemoryMultipartStore {
    state: Mutex<State>,
}

impl MemoryMultipartStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn missing(id: &UploadId) -> PortError {
    PortError::not_found(format!("multipart upload {id} not found"))
}

#[async_trait]
impl MultipartStore for MemoryMultipartStore {
    async fn create_upload(&self, upload: &MultipartUpload) -> PortResult<()> {
        let mut state = lock(&self.state)?;
        if state.uploads.contains_key(&upload.upload_id) {
            return Err(PortError::already_exists(format!(
                "multipart upload {} exists",
                upload.upload_id
            )));
        }
        state.index.insert(
            (
                upload.repository.clone(),
                upload.gateway_key(),
                upload.upload_id.clone(),
            ),
            (),
        );
        state
            .uploads
            .insert(upload.upload_id.clone(), (upload.clone(), BTreeMap::new()));
        Ok(())
    }

    async fn get_upload(&self, id: &UploadId) -> PortResult<MultipartUpload> {
        lock(&self.state)?
            .uploads
            .get(id)
            .map(|(u, _)| u.clone())
            .ok_or_else(|| missing(id))
    }

    async fn delete_upload(&self, id: &UploadId) -> PortResult<()> {
        let mut state = lock(&self.state)?;
        let (upload, _) = state.uploads.remove(id).ok_or_else(|| missing(id))?;
        state.index.remove(&(
            upload.repository.clone(),
            upload.gateway_key(),
            upload.upload_id,
        ));
        Ok(())
    }

    async fn list_uploads(
        &self,
        repo: &RepositoryId,
        after: Option<(&str, &UploadId)>,
        limit: usize,
    ) -> PortResult<Vec<MultipartUpload>> {
        let state = lock(&self.state)?;
        let lower = match after {
            Some((key, id)) => Bound::Excluded((repo.clone(), key.to_owned(), id.clone())),
            None => Bound::Unbounded,
        };
        Ok(state
            .index
            .range((lower, Bound::Unbounded))
            .skip_while(|((r, _, _), _)| r < repo)
            .take_while(|((r, _, _), _)| r == repo)
            .take(limit)
            .filter_map(|((_, _, id), _)| state.uploads.get(id).map(|(u, _)| u.clone()))
            .collect())
    }

    async fn put_part(&self, id: &UploadId, part: &PartRecord) -> PortResult<()> {
        let mut state = lock(&self.state)?;
        let (_, parts) = state.uploads.get_mut(id).ok_or_else(|| missing(id))?;
        parts.insert(part.number, part.clone());
        Ok(())
    }

    async fn list_parts(
        &self,
        id: &UploadId,
        after: Option<PartNumber>,
        limit: usize,
    ) -> PortResult<Vec<PartRecord>> {
        let state = lock(&self.state)?;
        let (_, parts) = state.uploads.get(id).ok_or_else(|| missing(id))?;
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(parts
            .range((lower, Bound::Unbounded))
            .take(limit)
            .map(|(_, p)| p.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tarn_ports::testkit::MultipartFixture;

    async fn fixture() -> MultipartFixture {
        MultipartFixture {
            store: Arc::new(MemoryMultipartStore::new()),
            guard: Box::new(()),
        }
    }

    tarn_ports::multipart_store_conformance!(fixture);
}
