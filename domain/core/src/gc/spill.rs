//! Sorted runs of addresses in the block store, for marking with bounded
//! memory: records are buffered up to a byte budget, sorted and written as
//! one run file; a k-way merge then reads the runs back in order, one
//! record per run in memory, merging duplicates.
//!
//! A record is an address, the owner tag of what keeps it and its size,
//! encoded as: key length (u32 LE), key bytes, owner (u32 LE), size (u64 LE).

use super::active::combine;
use crate::error::{Error, Result};
use bytes::{Buf, BytesMut};
use futures::StreamExt;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use tarn_model::{BlockKey, StorageNamespace};
use tarn_ports::{BlockStore, ByteStream};

/// One address and what keeps it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Record {
    pub key: String,
    pub owner: u32,
    pub size: u64,
}

/// Memory a buffered record takes besides its key's bytes.
const RECORD_OVERHEAD: usize = 64;
/// Most runs one merge reads at once (more are merged in rounds first).
const MAX_FAN_IN: usize = 64;

fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::Internal(tarn_ports::PortError::internal(format!(
        "garbage collection file is corrupt: {what}"
    )))
}

fn encode(out: &mut Vec<u8>, r: &Record) {
    out.extend_from_slice(&(r.key.len() as u32).to_le_bytes());
    out.extend_from_slice(r.key.as_bytes());
    out.extend_from_slice(&r.owner.to_le_bytes());
    out.extend_from_slice(&r.size.to_le_bytes());
}

/// Decodes one record from the front of `buf`, if it holds a whole one.
fn decode(buf: &mut BytesMut) -> Result<Option<Record>> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len > 64 << 10 {
        return Err(corrupt(format!("a key of {len} bytes")));
    }
    if buf.len() < 4 + len + 12 {
        return Ok(None);
    }
    buf.advance(4);
    let key = String::from_utf8(buf.split_to(len).to_vec()).map_err(corrupt)?;
    let owner = buf.get_u32_le();
    let size = buf.get_u64_le();
    Ok(Some(Record { key, owner, size }))
}

/// Reads the records of one file in order, a chunk at a time.
pub(crate) struct RecordReader {
    body: ByteStream,
    buf: BytesMut,
    done: bool,
}

impl RecordReader {
    pub(crate) async fn open(
        blocks: &Arc<dyn BlockStore>,
        ns: &StorageNamespace,
        key: &BlockKey,
    ) -> Result<Self> {
        let got = blocks.get(ns, key, None).await?;
        Ok(Self {
            body: got.body,
            buf: BytesMut::new(),
            done: false,
        })
    }

    pub(crate) async fn next(&mut self) -> Result<Option<Record>> {
        loop {
            if let Some(r) = decode(&mut self.buf)? {
                return Ok(Some(r));
            }
            if self.done {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(corrupt("a truncated record"))
                };
            }
            match self.body.next().await {
                Some(chunk) => {
                    let chunk = chunk.map_err(|e| corrupt(format!("reading: {e}")))?;
                    self.buf.extend_from_slice(&chunk);
                }
                None => self.done = true,
            }
        }
    }
}

/// Writes a file of records (in the order given).
pub(crate) async fn write_records(
    blocks: &Arc<dyn BlockStore>,
    ns: &StorageNamespace,
    key: &BlockKey,
    records: &[Record],
) -> Result<()> {
    let mut bytes = Vec::with_capacity(records.iter().map(|r| r.key.len() + 16).sum());
    for r in records {
        encode(&mut bytes, r);
    }
    let size = bytes.len() as u64;
    blocks
        .put(ns, key, ByteStream::from_bytes(bytes), Some(size))
        .await?;
    Ok(())
}

/// Collects records into sorted runs under `<dir>/run-<n>`.
pub(crate) struct RunWriter {
    blocks: Arc<dyn BlockStore>,
    ns: StorageNamespace,
    dir: String,
    budget: usize,
    buffer: Vec<Record>,
    buffered: usize,
    runs: Vec<BlockKey>,
    /// Records pushed, duplicates included.
    pub pushed: u64,
}

impl RunWriter {
    /// Runs under `dir` (a key prefix ending in `/`), each sorted in at most
    /// `budget` bytes of memory.
    pub(crate) fn new(
        blocks: Arc<dyn BlockStore>,
        ns: StorageNamespace,
        dir: String,
        budget: usize,
    ) -> Self {
        Self {
            blocks,
            ns,
            dir,
            budget: budget.max(1),
            buffer: Vec::new(),
            buffered: 0,
            runs: Vec::new(),
            pushed: 0,
        }
    }

    pub(crate) async fn push(&mut self, r: Record) -> Result<()> {
        self.buffered += r.key.len() + RECORD_OVERHEAD;
        self.buffer.push(r);
        self.pushed += 1;
        if self.buffered >= self.budget {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let mut records = std::mem::take(&mut self.buffer);
        self.buffered = 0;
        records.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        let records = dedupe(records);
        let key = BlockKey::new(format!("{}run-{:06}", self.dir, self.runs.len()))?;
        write_records(&self.blocks, &self.ns, &key, &records).await?;
        self.runs.push(key);
        Ok(())
    }

    /// Writes what is buffered; returns a merge over every run (reduced to
    /// at most [`MAX_FAN_IN`] runs by merging rounds first) and every file
    /// written, to remove once done.
    pub(crate) async fn finish(mut self) -> Result<(Merger, Vec<BlockKey>)> {
        self.flush().await?;
        let mut runs = std::mem::take(&mut self.runs);
        let mut all = runs.clone();
        let mut round = 0;
        while runs.len() > MAX_FAN_IN {
            round += 1;
            let mut next = Vec::new();
            for (i, group) in runs.chunks(MAX_FAN_IN).enumerate() {
                let merger = Merger::open(&self.blocks, &self.ns, group).await?;
                let key = BlockKey::new(format!("{}merge-{round}-{i:06}", self.dir))?;
                stream_merged(&self.blocks, &self.ns, &key, merger).await?;
                next.push(key);
            }
            all.extend(next.iter().cloned());
            runs = next;
        }
        let merger = Merger::open(&self.blocks, &self.ns, &runs).await?;
        Ok((merger, all))
    }
}

/// Writes a merge's records to `key` as they come (a put of unknown
/// length), holding about one chunk in memory.
async fn stream_merged(
    blocks: &Arc<dyn BlockStore>,
    ns: &StorageNamespace,
    key: &BlockKey,
    mut merger: Merger,
) -> Result<()> {
    use futures::channel::mpsc;
    use futures::SinkExt;
    const CHUNK: usize = 1 << 20;
    let (mut tx, rx) = mpsc::channel::<std::io::Result<bytes::Bytes>>(2);
    let produce = async move {
        let mut chunk = Vec::with_capacity(CHUNK + 1024);
        let outcome: Result<()> = async {
            while let Some(r) = merger.next().await? {
                encode(&mut chunk, &r);
                if chunk.len() >= CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK + 1024));
                    if tx.send(Ok(full.into())).await.is_err() {
                        return Ok(());
                    }
                }
            }
            Ok(())
        }
        .await;
        match &outcome {
            Ok(()) => {
                let _ = tx.send(Ok(chunk.into())).await;
            }
            Err(e) => {
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
            }
        }
        outcome
    };
    let put = blocks.put(ns, key, ByteStream::new(rx), None);
    let (produced, put) = futures::join!(produce, put);
    produced?;
    put?;
    Ok(())
}

/// Sorted records, duplicates of a key merged.
fn dedupe(records: Vec<Record>) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::with_capacity(records.len());
    for r in records {
        match out.last_mut() {
            Some(last) if last.key == r.key => {
                last.owner = combine(last.owner, r.owner);
                last.size = last.size.max(r.size);
            }
            _ => out.push(r),
        }
    }
    out
}

/// A k-way merge of sorted runs into distinct records.
pub(crate) struct Merger {
    readers: Vec<RecordReader>,
    heads: BinaryHeap<Reverse<(String, usize, u32, u64)>>,
}

impl Merger {
    pub(crate) async fn open(
        blocks: &Arc<dyn BlockStore>,
        ns: &StorageNamespace,
        runs: &[BlockKey],
    ) -> Result<Self> {
        let mut m = Self {
            readers: Vec::with_capacity(runs.len()),
            heads: BinaryHeap::new(),
        };
        for (i, key) in runs.iter().enumerate() {
            let mut reader = RecordReader::open(blocks, ns, key).await?;
            if let Some(r) = reader.next().await? {
                m.heads.push(Reverse((r.key, i, r.owner, r.size)));
            }
            m.readers.push(reader);
        }
        Ok(m)
    }

    /// The next distinct key, with its owners combined.
    pub(crate) async fn next(&mut self) -> Result<Option<Record>> {
        let Some(Reverse((key, i, owner, size))) = self.heads.pop() else {
            return Ok(None);
        };
        self.advance(i).await?;
        let mut merged = Record { key, owner, size };
        while let Some(Reverse((k, ..))) = self.heads.peek() {
            if *k != merged.key {
                break;
            }
            let Some(Reverse((_, j, o, s))) = self.heads.pop() else {
                break;
            };
            merged.owner = combine(merged.owner, o);
            merged.size = merged.size.max(s);
            self.advance(j).await?;
        }
        Ok(Some(merged))
    }

    async fn advance(&mut self, i: usize) -> Result<()> {
        if let Some(reader) = self.readers.get_mut(i) {
            if let Some(r) = reader.next().await? {
                self.heads.push(Reverse((r.key, i, r.owner, r.size)));
            }
        }
        Ok(())
    }
}
