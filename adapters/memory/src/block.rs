use crate::lock;
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tarn_model::{BlockKey, PartNumber, StorageNamespace};
use tarn_ports::{
    check_completed_parts, md5_hex, multipart_etag, BlockStore, ByteRange, ByteStream, Clock,
    CompletedPart, ErrorKind, GetOutcome, ListedBlock, ObjectMeta, PortError, PortResult,
    PutOutcome,
};

#[derive(Clone)]
struct Stored {
    data: Bytes,
    meta: ObjectMeta,
}

struct Upload {
    ns: String,
    key: BlockKey,
    parts: BTreeMap<PartNumber, (String, Bytes)>,
}

#[derive(Default)]
struct State {
    /// (namespace, key) → object.
    objects: BTreeMap<(String, String), Stored>,
    uploads: HashMap<String, Upload>,
}

/// A `BlockStore` in memory, for namespaces `mem://…`.
pub struct MemoryBlockStore {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    next_upload: AtomicU64,
}

impl MemoryBlockStore {
    /// The scheme this store serves.
    pub const SCHEME: &'static str = "mem";

    /// An empty store stamping objects with `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Mutex::new(State::default()),
            clock,
            next_upload: AtomicU64::new(1),
        }
    }

    fn check(ns: &StorageNamespace) -> PortResult<String> {
        if ns.scheme() == Self::SCHEME {
            Ok(ns.as_str().to_owned())
        } else {
            Err(PortError::invalid_input(format!(
                "the memory block store serves mem:// namespaces, not {ns}"
            )))
        }
    }

    fn object(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<Stored> {
        let ns = Self::check(ns)?;
        lock(&self.state)?
            .objects
            .get(&(ns, key.as_str().to_owned()))
            .cloned()
            .ok_or_else(|| PortError::not_found(format!("no object at {key}")))
    }

    fn slice(stored: &Stored, range: Option<ByteRange>) -> PortResult<(Bytes, Option<(u64, u64)>)> {
        match range {
            None => Ok((stored.data.clone(), None)),
            Some(r) => {
                let (first, last) = r.resolve(stored.meta.size).ok_or_else(|| {
                    PortError::new(
                        ErrorKind::InvalidRange,
                        format!("{r:?} of {} bytes", stored.meta.size),
                    )
                })?;
                Ok((
                    stored.data.slice(first as usize..=last as usize),
                    Some((first, last)),
                ))
            }
        }
    }

    fn upload_for<'a>(
        state: &'a mut State,
        ns: &str,
        key: &BlockKey,
        id: &str,
    ) -> PortResult<&'a mut Upload> {
        state
            .uploads
            .get_mut(id)
            .filter(|u| u.ns == ns && &u.key == key)
            .ok_or_else(|| PortError::not_found(format!("no multipart upload {id} for {key}")))
    }
}

/// Reads a body into memory, checking its length against `size`.
async fn read_body(mut body: ByteStream, size: Option<u64>) -> PortResult<Bytes> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            PortError::new(ErrorKind::Interrupted, "request body failed").with_source(e)
        })?;
        buf.extend_from_slice(&chunk);
    }
    match size {
        Some(expected) if expected != buf.len() as u64 => Err(PortError::invalid_input(format!(
            "body has {} bytes, expected {expected}",
            buf.len()
        ))),
        _ => Ok(buf.freeze()),
    }
}

#[async_trait]
impl BlockStore for MemoryBlockStore {
    async fn put(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<PutOutcome> {
        let nss = Self::check(ns)?;
        let data = read_body(body, size).await?;
        let meta = ObjectMeta {
            size: data.len() as u64,
            etag: md5_hex(&data),
            last_modified: self.clock.now(),
        };
        let out = PutOutcome {
            size: meta.size,
            etag: meta.etag.clone(),
        };
        lock(&self.state)?
            .objects
            .insert((nss, key.as_str().to_owned()), Stored { data, meta });
        Ok(out)
    }

    async fn get(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        range: Option<ByteRange>,
    ) -> PortResult<GetOutcome> {
        let stored = self.object(ns, key)?;
        let (data, range) = Self::slice(&stored, range)?;
        Ok(GetOutcome {
            meta: stored.meta,
            range,
            body: ByteStream::from_bytes(data),
        })
    }

    async fn head(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<ObjectMeta> {
        Ok(self.object(ns, key)?.meta)
    }

    async fn delete(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<()> {
        let ns = Self::check(ns)?;
        lock(&self.state)?
            .objects
            .remove(&(ns, key.as_str().to_owned()));
        Ok(())
    }

    async fn copy(
        &self,
        src_ns: &StorageNamespace,
        src: &BlockKey,
        dst_ns: &StorageNamespace,
        dst: &BlockKey,
    ) -> PortResult<PutOutcome> {
        let dst_ns = Self::check(dst_ns)?;
        let mut stored = self.object(src_ns, src)?;
        stored.meta.last_modified = self.clock.now();
        let out = PutOutcome {
            size: stored.meta.size,
            etag: stored.meta.etag.clone(),
        };
        lock(&self.state)?
            .objects
            .insert((dst_ns, dst.as_str().to_owned()), stored);
        Ok(out)
    }

    async fn list(
        &self,
        ns: &StorageNamespace,
        prefix: &str,
        after: Option<&BlockKey>,
        limit: usize,
    ) -> PortResult<Vec<ListedBlock>> {
        let ns = Self::check(ns)?;
        let state = lock(&self.state)?;
        let start = match after {
            Some(a) if a.as_str() > prefix => a.as_str().to_owned(),
            _ => prefix.to_owned(),
        };
        let mut out = Vec::new();
        // Keys sharing a prefix are contiguous in byte order.
        for ((n, k), stored) in state.objects.range((ns.clone(), start)..) {
            if n != &ns || !k.starts_with(prefix) || out.len() >= limit {
                break;
            }
            if after.is_some_and(|a| k.as_str() <= a.as_str()) {
                continue;
            }
            out.push(ListedBlock {
                key: BlockKey::new(k.clone())?,
                meta: stored.meta.clone(),
            });
        }
        Ok(out)
    }

    async fn create_multipart(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<String> {
        let ns = Self::check(ns)?;
        let id = format!(
            "mem-upload-{}",
            self.next_upload.fetch_add(1, Ordering::SeqCst)
        );
        lock(&self.state)?.uploads.insert(
            id.clone(),
            Upload {
                ns,
                key: key.clone(),
                parts: BTreeMap::new(),
            },
        );
        Ok(id)
    }

    async fn upload_part(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<String> {
        let nss = Self::check(ns)?;
        Self::upload_for(&mut *lock(&self.state)?, &nss, key, upload_id)?;
        let data = read_body(body, size).await?;
        let etag = md5_hex(&data);
        Self::upload_for(&mut *lock(&self.state)?, &nss, key, upload_id)?
            .parts
            .insert(number, (etag.clone(), data));
        Ok(etag)
    }

    async fn upload_part_copy(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        src_ns: &StorageNamespace,
        src: &BlockKey,
        range: Option<ByteRange>,
    ) -> PortResult<String> {
        let nss = Self::check(ns)?;
        Self::upload_for(&mut *lock(&self.state)?, &nss, key, upload_id)?;
        let (data, _) = Self::slice(&self.object(src_ns, src)?, range)?;
        let etag = md5_hex(&data);
        Self::upload_for(&mut *lock(&self.state)?, &nss, key, upload_id)?
            .parts
            .insert(number, (etag.clone(), data));
        Ok(etag)
    }

    async fn complete_multipart(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> PortResult<PutOutcome> {
        let nss = Self::check(ns)?;
        let mut state = lock(&self.state)?;
        let upload = Self::upload_for(&mut state, &nss, key, upload_id)?;
        let chosen =
            check_completed_parts(parts, |n| upload.parts.get(&n).map(|(e, _)| e.as_str()))?;
        let mut data = BytesMut::new();
        for n in &chosen {
            if let Some((_, bytes)) = upload.parts.get(n) {
                data.extend_from_slice(bytes);
            }
        }
        let etag = multipart_etag(
            chosen
                .iter()
                .filter_map(|n| upload.parts.get(n).map(|(e, _)| e.as_str())),
        );
        state.uploads.remove(upload_id);
        let meta = ObjectMeta {
            size: data.len() as u64,
            etag: etag.clone(),
            last_modified: self.clock.now(),
        };
        let out = PutOutcome {
            size: meta.size,
            etag,
        };
        state.objects.insert(
            (nss, key.as_str().to_owned()),
            Stored {
                data: data.freeze(),
                meta,
            },
        );
        Ok(out)
    }

    async fn abort_multipart(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
    ) -> PortResult<()> {
        let nss = Self::check(ns)?;
        let mut state = lock(&self.state)?;
        Self::upload_for(&mut state, &nss, key, upload_id)?;
        state.uploads.remove(upload_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SystemClock;
    use tarn_ports::testkit::BlockFixture;

    async fn fixture() -> BlockFixture {
        let ns = |s: &str| StorageNamespace::new(s).unwrap();
        BlockFixture {
            store: Arc::new(MemoryBlockStore::new(Arc::new(SystemClock::new()))),
            ns: ns("mem://root/ns-a"),
            sibling: ns("mem://root/ns-b"),
            foreign: ns("local://root/ns-a"),
            min_part_size: 0,
            guard: Box::new(()),
        }
    }

    tarn_ports::block_store_conformance!(fixture);
}
