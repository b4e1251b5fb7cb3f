//! The sample repository (`createRepository` with `sample_data: true`, as
//! lakeFS offers): real lakes data, a README and charts, committed as "Add
//! sample data" on the default branch, which is then protected. The files
//! are built by `scripts/sample-data/build.py` into `assets/sample/` and
//! compiled in.

use tarn_domain::{CommitRequest, Engine, Result, UploadRequest, WriteCondition};
use tarn_model::{BranchName, ObjectPath, RepositoryId};
use tarn_ports::ByteStream;

/// The commit message (lakeFS's).
pub const COMMIT_MESSAGE: &str = "Add sample data";

const README: &str = include_str!("../assets/sample/README.md.tmpl");

/// `(path, bytes, content type)` of every file but the README.
const FILES: &[(&str, &[u8], &str)] = &[
    (
        "lakes.parquet",
        include_bytes!("../assets/sample/lakes.parquet"),
        "application/vnd.apache.parquet",
    ),
    (
        "data/lakes-by-country.csv",
        include_bytes!("../assets/sample/data/lakes-by-country.csv"),
        "text/csv",
    ),
    (
        "data/lakes.source.md",
        include_bytes!("../assets/sample/data/lakes.source.md"),
        "text/markdown",
    ),
    (
        "images/deepest-lakes.png",
        include_bytes!("../assets/sample/images/deepest-lakes.png"),
        "image/png",
    ),
    (
        "images/lakes-by-country.png",
        include_bytes!("../assets/sample/images/lakes-by-country.png"),
        "image/png",
    ),
];

/// Writes the sample files to `branch`, commits them as `committer`, and
/// protects the branch.
pub async fn populate(
    engine: &Engine,
    repo: &RepositoryId,
    branch: &BranchName,
    committer: &str,
) -> Result<()> {
    let readme = README
        .replace("{{REPO}}", repo.as_str())
        .replace("{{BRANCH}}", branch.as_str());
    let files = FILES
        .iter()
        .map(|(path, bytes, ct)| (*path, bytes.to_vec(), *ct))
        .chain(std::iter::once((
            "README.md",
            readme.into_bytes(),
            "text/markdown",
        )));
    for (path, bytes, content_type) in files {
        let request = UploadRequest {
            size: Some(bytes.len() as u64),
            content_type: Some(content_type.to_owned()),
            metadata: Default::default(),
            tags: Default::default(),
            condition: WriteCondition::Always,
        };
        let path = ObjectPath::new(path)?;
        engine
            .upload_object(repo, branch, &path, ByteStream::from_bytes(bytes), request)
            .await?;
    }
    let commit = CommitRequest {
        message: COMMIT_MESSAGE.to_owned(),
        committer: committer.to_owned(),
        ..CommitRequest::default()
    };
    engine.commit(repo, branch, commit).await?;
    engine.add_branch_protection(repo, branch.as_str()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_real_parquet_and_large_enough() {
        let (_, parquet, _) = FILES[0];
        assert!(parquet.len() > 600 * 1024, "{} bytes", parquet.len());
        assert_eq!(&parquet[..4], b"PAR1");
        assert_eq!(&parquet[parquet.len() - 4..], b"PAR1");
        for (path, bytes, _) in FILES {
            assert!(!bytes.is_empty(), "{path}");
        }
        assert!(README.contains("{{REPO}}") && README.contains("{{BRANCH}}"));
    }
}
