//! Tarn's many-objects extension on the wire (docs/archives.md): a tar
//! archive whose entries are objects. Each entry
//! has a PAX header carrying the object's path (`path`, so any path of any
//! length round-trips) and its description (`TARN.*` records), then a
//! ustar header and the bytes. The server and the `tarn` command line both
//! read and write archives with this crate; any tar that knows PAX (GNU
//! tar, bsdtar, Python's tarfile) reads and writes them too.

use bytes::Bytes;
use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

pub use tokio_tar as tar;

/// The media type of an archive.
pub const CONTENT_TYPE: &str = "application/x-tar";
/// The PAX record of an object's ETag (in downloads).
pub const PAX_CHECKSUM: &str = "TARN.checksum";
/// The PAX record of an object's content type.
pub const PAX_CONTENT_TYPE: &str = "TARN.content_type";
/// The PAX record of an object's user metadata: a JSON object of strings
/// (one record, so that empty values and keys holding `=` round-trip).
pub const PAX_METADATA: &str = "TARN.metadata";
/// The most bytes of headers (PAX records, long names) before one file:
/// a reader refuses more, so a header cannot make it hold much memory.
pub const HEADER_BUDGET: u64 = 1 << 20;
/// The most objects one request moves.
pub const MAX_OBJECTS: usize = 4096;
/// The end of an archive: two zero blocks.
pub const END: [u8; 1024] = [0; 1024];

/// What travels with an object besides its path and bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Described {
    /// Its content type.
    pub content_type: Option<String>,
    /// Its user metadata.
    pub metadata: BTreeMap<String, String>,
    /// Its ETag (the server sends it; uploads need none).
    pub checksum: Option<String>,
    /// The file's mtime, in seconds since the epoch (the ustar header's).
    pub mtime: u64,
}

/// One PAX record: `<length> <key>=<value>\n`, the length counting itself.
fn pax_record(out: &mut Vec<u8>, key: &str, value: &str) {
    let body = key.len() + value.len() + 3; // space, '=', newline
    let mut len = body + body.to_string().len();
    if len.to_string().len() != body.to_string().len() {
        len += 1;
    }
    out.extend_from_slice(format!("{len} {key}={value}\n").as_bytes());
}

/// Zeros from `len` bytes to the end of their 512-byte block.
pub fn padding(len: u64) -> &'static [u8] {
    let rem = (len % 512) as usize;
    if rem == 0 {
        &[]
    } else {
        &END[..512 - rem]
    }
}

/// The start of an object's entry: its PAX header and records, then its
/// ustar header. Its `size` bytes follow, then [`padding`]`(size)`.
pub fn entry_start(path: &str, size: u64, d: &Described) -> io::Result<Vec<u8>> {
    use tar::{EntryType, Header};
    let mut records = Vec::new();
    pax_record(&mut records, "path", path);
    if let Some(sum) = &d.checksum {
        pax_record(&mut records, PAX_CHECKSUM, sum);
    }
    // Readers refuse empty PAX values: an empty content type is none.
    if let Some(ct) = d.content_type.as_deref().filter(|c| !c.is_empty()) {
        pax_record(&mut records, PAX_CONTENT_TYPE, ct);
    }
    if !d.metadata.is_empty() {
        let json = serde_json::to_string(&d.metadata).map_err(io::Error::other)?;
        pax_record(&mut records, PAX_METADATA, &json);
    }
    let mut pax = Header::new_ustar();
    pax.set_entry_type(EntryType::XHeader);
    pax.set_path("PaxHeader")?;
    pax.set_size(records.len() as u64);
    pax.set_mode(0o644);
    pax.set_cksum();
    let mut file = Header::new_ustar();
    file.set_entry_type(EntryType::Regular);
    // Readers that know PAX take the path from its record; this name is
    // for those that do not, when it fits a ustar header.
    if file.set_path(path).is_err() {
        file.set_path("object")?;
    }
    file.set_size(size);
    file.set_mode(0o644);
    file.set_mtime(d.mtime);
    file.set_cksum();
    let mut out = Vec::with_capacity(1024 + records.len() + 512);
    out.extend_from_slice(pax.as_bytes());
    out.extend_from_slice(&records);
    out.extend_from_slice(padding(records.len() as u64));
    out.extend_from_slice(file.as_bytes());
    Ok(out)
}

/// A whole entry of a small object, appended to `out`.
pub fn append_entry(out: &mut Vec<u8>, path: &str, body: &[u8], d: &Described) -> io::Result<()> {
    out.extend_from_slice(&entry_start(path, body.len() as u64, d)?);
    out.extend_from_slice(body);
    out.extend_from_slice(padding(body.len() as u64));
    Ok(())
}

/// An archive of small objects, whole.
pub fn archive<'a>(
    objects: impl IntoIterator<Item = (&'a str, &'a [u8], &'a Described)>,
) -> io::Result<Bytes> {
    let mut out = Vec::new();
    for (path, body, d) in objects {
        append_entry(&mut out, path, body, d)?;
    }
    out.extend_from_slice(&END);
    Ok(Bytes::from(out))
}

/// The state a [`Guarded`] reader shares with its [`Guard`].
#[derive(Debug, Default)]
struct GuardState {
    /// Bytes headers may still take (`u64::MAX` while a body is read).
    budget: AtomicU64,
    /// Whether the input ended (a read returned nothing).
    ended: AtomicBool,
}

/// An archive's input, refusing more than [`HEADER_BUDGET`] bytes of
/// headers before a file and noting whether the input ended.
pub struct Guarded<R> {
    inner: R,
    state: Arc<GuardState>,
}

/// The handle of a [`Guarded`] reader.
#[derive(Debug, Clone)]
pub struct Guard(Arc<GuardState>);

/// `inner`, guarded: headers are limited from the start.
pub fn guarded<R>(inner: R) -> (Guarded<R>, Guard) {
    let state = Arc::new(GuardState::default());
    state.budget.store(HEADER_BUDGET, Ordering::SeqCst);
    (
        Guarded {
            inner,
            state: state.clone(),
        },
        Guard(state),
    )
}

impl Guard {
    /// A file's body is read next: no limit.
    pub fn body(&self) {
        self.0.budget.store(u64::MAX, Ordering::SeqCst);
    }

    /// Headers are read next: at most [`HEADER_BUDGET`] bytes.
    pub fn headers(&self) {
        self.0.budget.store(HEADER_BUDGET, Ordering::SeqCst);
    }

    /// Whether the input ended. After the last entry, an archive that ends
    /// with its end blocks has not been read to its end: one that has was
    /// cut short (a tar reader takes the end of the input for the end of
    /// the archive).
    pub fn input_ended(&self) -> bool {
        self.0.ended.load(Ordering::SeqCst)
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Guarded<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        futures::ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let read = (buf.filled().len() - before) as u64;
        if read == 0 && buf.remaining() > 0 {
            this.state.ended.store(true, Ordering::SeqCst);
        }
        let budget = this.state.budget.load(Ordering::SeqCst);
        if budget != u64::MAX {
            if read > budget {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("more than {HEADER_BUDGET} bytes of headers before a file"),
                )));
            }
            this.state.budget.store(budget - read, Ordering::SeqCst);
        }
        Poll::Ready(Ok(()))
    }
}

/// Why an entry cannot be an object.
#[derive(Debug)]
pub enum EntryError {
    /// The archive itself is broken.
    Io(io::Error),
    /// The path or a record is not UTF-8.
    NotText(&'static str),
}

impl From<io::Error> for EntryError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "invalid tar archive: {e}"),
            Self::NotText(what) => write!(f, "an archive entry's {what} is not UTF-8"),
        }
    }
}

/// An entry's path, from its PAX `path` (or GNU long name, or name), less
/// a leading `./` as `tar -C dir -c .` writes.
pub fn entry_path<R: tokio::io::AsyncRead + Unpin>(
    entry: &tar::Entry<R>,
) -> Result<String, EntryError> {
    let raw = entry.path_bytes()?;
    let text = std::str::from_utf8(&raw).map_err(|_| EntryError::NotText("path"))?;
    Ok(text.strip_prefix("./").unwrap_or(text).to_owned())
}

/// An entry's description, from its PAX records and header.
pub async fn entry_described<R: tokio::io::AsyncRead + Unpin>(
    entry: &mut tar::Entry<R>,
) -> Result<Described, EntryError> {
    let mut d = Described {
        mtime: entry.header().mtime().unwrap_or(0),
        ..Described::default()
    };
    if let Some(records) = entry.pax_extensions().await? {
        for record in records {
            let record = record?;
            let (Ok(key), Ok(value)) = (record.key(), record.value()) else {
                return Err(EntryError::NotText("PAX record"));
            };
            if key == PAX_CONTENT_TYPE {
                d.content_type = Some(value.to_owned());
            } else if key == PAX_CHECKSUM {
                d.checksum = Some(value.to_owned());
            } else if key == PAX_METADATA {
                d.metadata = serde_json::from_str(value).map_err(|e| {
                    EntryError::Io(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{PAX_METADATA} is not a JSON object of strings: {e}"),
                    ))
                })?;
            }
        }
    }
    Ok(d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use tokio::io::AsyncReadExt;

    #[test]
    fn pax_records_count_their_own_length() {
        for len in [0usize, 1, 88, 89, 90, 91, 985, 986, 994, 995, 996, 5000] {
            let value = "v".repeat(len);
            let mut out = Vec::new();
            pax_record(&mut out, "path", &value);
            let text = String::from_utf8(out.clone()).unwrap();
            let (n, _) = text.split_once(' ').unwrap();
            assert_eq!(n.parse::<usize>().unwrap(), out.len(), "{len}");
        }
    }

    /// What is written reads back: paths of any length and character,
    /// descriptions, bodies of sizes around the block, in order.
    #[tokio::test]
    async fn archives_read_back_as_written() {
        let long = format!("a/{}/b", "é".repeat(120));
        let mut d = Described {
            content_type: Some("text/csv".into()),
            checksum: Some("abc".into()),
            mtime: 1_700_000_000,
            ..Described::default()
        };
        d.metadata
            .insert("::lakefs::client-mtime".into(), "17".into());
        d.metadata.insert("owner".into(), "a=b c".into());
        d.metadata.insert("empty".into(), String::new());
        d.metadata.insert("k=ey".into(), "v".into());
        let plain = Described::default();
        let bodies: Vec<Vec<u8>> = [0usize, 1, 511, 512, 513, 5000]
            .iter()
            .map(|n| vec![7u8; *n])
            .collect();
        let names: Vec<String> = (0..bodies.len()).map(|i| format!("f/{i} ü")).collect();
        let mut objects: Vec<(&str, &[u8], &Described)> = vec![(long.as_str(), b"x", &d)];
        for (n, b) in names.iter().zip(&bodies) {
            objects.push((n, b, &plain));
        }
        let tar = archive(objects.clone()).unwrap();
        let mut reader = tar::Archive::new(&tar[..]);
        let mut entries = reader.entries().unwrap();
        let mut got = Vec::new();
        while let Some(e) = entries.next().await {
            let mut e = e.unwrap();
            let path = entry_path(&e).unwrap();
            let desc = entry_described(&mut e).await.unwrap();
            let mut body = Vec::new();
            e.read_to_end(&mut body).await.unwrap();
            got.push((path, body, desc));
        }
        assert_eq!(got.len(), objects.len());
        for ((path, body, desc), (p, b, d)) in got.iter().zip(&objects) {
            assert_eq!(path, p);
            assert_eq!(body.as_slice(), *b, "{p}");
            assert_eq!(desc, *d, "{p}");
        }
    }

    async fn read_all(tar: &[u8]) -> (io::Result<usize>, Guard) {
        let (reader, guard) = guarded(tar);
        let mut archive = tar::Archive::new(reader);
        let mut entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return (Err(e), guard),
        };
        let mut n = 0;
        while let Some(e) = entries.next().await {
            let mut e = match e {
                Ok(e) => e,
                Err(e) => return (Err(e), guard),
            };
            guard.body();
            let mut body = Vec::new();
            if let Err(e) = e.read_to_end(&mut body).await {
                return (Err(e), guard);
            }
            guard.headers();
            n += 1;
        }
        (Ok(n), guard)
    }

    /// A whole archive is read without reaching the end of its input; one
    /// cut at an entry's boundary (its end blocks missing) reaches it; a
    /// header larger than the budget is refused before it is held.
    #[tokio::test]
    async fn the_guard_tells_cut_archives_and_refuses_huge_headers() {
        let plain = Described::default();
        let tar = archive([("a", &b"1"[..], &plain), ("b", &b"22"[..], &plain)]).unwrap();
        let (n, guard) = read_all(&tar).await;
        assert_eq!(n.unwrap(), 2);
        assert!(!guard.input_ended());
        let cut = &tar[..tar.len() - END.len()];
        let (n, guard) = read_all(cut).await;
        assert_eq!(n.unwrap(), 2, "a tar reader takes the cut for the end");
        assert!(guard.input_ended());
        let mut huge = Described::default();
        huge.metadata
            .insert("big".into(), "x".repeat(HEADER_BUDGET as usize + 10));
        let tar = archive([("c", &b"3"[..], &huge)]).unwrap();
        let (n, _) = read_all(&tar).await;
        let e = n.unwrap_err();
        assert!(e.to_string().contains("bytes of headers"), "{e}");
        // Bodies are not limited.
        let big = vec![1u8; HEADER_BUDGET as usize * 2];
        let tar = archive([("d", big.as_slice(), &plain)]).unwrap();
        assert_eq!(read_all(&tar).await.0.unwrap(), 1);
    }
}
