//! Tar archives for the many-objects extension's tests, written and read
//! with the wire crate the server and the command line use (the tests also
//! use the system's `tar`).

use tarn_archive_protocol::tar::Archive;
use tarn_archive_protocol::{self as wire, Described};

/// One file of an archive: its path, bytes and description.
pub struct File<'a> {
    pub path: &'a str,
    pub data: Vec<u8>,
    pub described: Described,
}

impl<'a> File<'a> {
    pub fn new(path: &'a str, data: impl Into<Vec<u8>>) -> Self {
        Self {
            path,
            data: data.into(),
            described: Described::default(),
        }
    }
}

/// A tar archive of `files`.
pub async fn archive(files: &[File<'_>]) -> Vec<u8> {
    wire::archive(
        files
            .iter()
            .map(|f| (f.path, f.data.as_slice(), &f.described)),
    )
    .unwrap()
    .to_vec()
}

/// An entry read back: path, bytes and description.
#[derive(Debug)]
pub struct Read {
    pub path: String,
    pub data: Vec<u8>,
    pub described: Described,
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
        let path = wire::entry_path(&entry).unwrap();
        let described = wire::entry_described(&mut entry).await.unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).await.unwrap();
        out.push(Read {
            path,
            data,
            described,
        });
    }
    out
}
