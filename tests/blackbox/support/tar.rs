//! Tar archives for the many-objects extension's tests, written with the
//! same crate the server reads them with (and, in the tests, with the
//! system's `tar`).

use tokio_tar::{Archive, Builder, EntryType, Header};

/// One file of an archive: its path, bytes and PAX records.
pub struct File<'a> {
    pub path: &'a str,
    pub data: Vec<u8>,
    pub pax: Vec<(&'a str, &'a str)>,
}

impl<'a> File<'a> {
    pub fn new(path: &'a str, data: impl Into<Vec<u8>>) -> Self {
        Self {
            path,
            data: data.into(),
            pax: Vec::new(),
        }
    }
}

fn pax_record(out: &mut Vec<u8>, key: &str, value: &str) {
    // `<len> <key>=<value>\n`, the length counting itself.
    let body = key.len() + value.len() + 3;
    let mut len = body + body.to_string().len();
    if len.to_string().len() != body.to_string().len() {
        len += 1;
    }
    out.extend_from_slice(format!("{len} {key}={value}\n").as_bytes());
}

/// A tar archive of `files`: each path in a PAX `path` record, with the
/// file's other records; the ustar name is the path when it fits.
pub async fn archive(files: &[File<'_>]) -> Vec<u8> {
    let mut b = Builder::new(Vec::new());
    for f in files {
        let mut records = Vec::new();
        pax_record(&mut records, "path", f.path);
        for (k, v) in &f.pax {
            pax_record(&mut records, k, v);
        }
        let mut pax = Header::new_ustar();
        pax.set_entry_type(EntryType::XHeader);
        pax.set_path("PaxHeader").unwrap();
        pax.set_size(records.len() as u64);
        pax.set_cksum();
        b.append(&pax, records.as_slice()).await.unwrap();
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::Regular);
        if h.set_path(f.path).is_err() {
            h.set_path("long-name").unwrap();
        }
        h.set_size(f.data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, f.data.as_slice()).await.unwrap();
    }
    b.into_inner().await.unwrap()
}

/// An entry read back: path, bytes, PAX records and the header's mtime.
#[derive(Debug)]
pub struct Read {
    pub path: String,
    pub data: Vec<u8>,
    pub pax: Vec<(String, String)>,
    pub mtime: u64,
}

/// The regular files of an archive, in order.
pub async fn entries(bytes: &[u8]) -> Vec<Read> {
    use futures::StreamExt;
    use tokio::io::AsyncReadExt;
    let mut archive = Archive::new(bytes);
    let mut entries = archive.entries().unwrap();
    let mut out = Vec::new();
    while let Some(entry) = entries.next().await {
        let mut entry = entry.unwrap();
        let path = String::from_utf8(entry.path_bytes().unwrap().into_owned()).unwrap();
        let mut pax = Vec::new();
        if let Some(records) = entry.pax_extensions().await.unwrap() {
            for r in records {
                let r = r.unwrap();
                pax.push((r.key().unwrap().to_owned(), r.value().unwrap().to_owned()));
            }
        }
        let mtime = entry.header().mtime().unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).await.unwrap();
        out.push(Read {
            path,
            data,
            pax,
            mtime,
        });
    }
    out
}
