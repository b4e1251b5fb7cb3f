//! Engine tests: object data (upload, read, copy, link, conditions).

use super::*;
use crate::Entity;
use tarn_ports::{ByteRange, ByteStream};

async fn body(read: crate::ObjectRead) -> Vec<u8> {
    read.data
        .body
        .collect_bounded(1 << 20)
        .await
        .unwrap()
        .to_vec()
}

fn upload(condition: WriteCondition) -> UploadRequest {
    UploadRequest {
        condition,
        content_type: Some("text/plain".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn uploads_stream_to_fresh_addresses_and_read_back_by_range() {
    let f = fixture().await;
    let path = p("dir/file.txt");
    let e1 = f
        .engine
        .upload_object(
            &f.repo,
            &b("main"),
            &path,
            ByteStream::from_bytes("hello world"),
            upload(WriteCondition::Always),
        )
        .await
        .unwrap();
    assert_eq!(e1.size, 11);
    assert_eq!(e1.checksum, tarn_ports::md5_hex(b"hello world"));
    assert_eq!(e1.content_type.as_deref(), Some("text/plain"));
    let e2 = f
        .engine
        .upload_object(
            &f.repo,
            &b("main"),
            &path,
            ByteStream::from_bytes("again"),
            upload(WriteCondition::Always),
        )
        .await
        .unwrap();
    assert_ne!(e1.address, e2.address, "data is never overwritten");
    let whole = f
        .engine
        .read_object(&f.repo, "main", &path, None)
        .await
        .unwrap();
    assert_eq!(body(whole).await, b"again");
    let part = f
        .engine
        .read_object(
            &f.repo,
            "main",
            &path,
            Some(ByteRange::Inclusive { first: 1, last: 2 }),
        )
        .await
        .unwrap();
    assert_eq!(part.data.range, Some((1, 2)));
    assert_eq!(body(part).await, b"ga");
    let past = f
        .engine
        .read_object(&f.repo, "main", &path, Some(ByteRange::From(5)))
        .await;
    assert!(
        matches!(past, Err(Error::InvalidRange { size: 5 })),
        "{past:?}"
    );
    let wrong_size = UploadRequest {
        size: Some(3),
        ..Default::default()
    };
    let short = f
        .engine
        .upload_object(
            &f.repo,
            &b("main"),
            &p("x"),
            ByteStream::from_bytes("toolong"),
            wrong_size,
        )
        .await;
    assert!(
        matches!(short, Err(Error::InvalidInput { .. })),
        "{short:?}"
    );
    assert!(matches!(
        f.engine.stat_object(&f.repo, "main", &p("x")).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn write_conditions_guard_uploads() {
    let f = fixture().await;
    let path = p("guarded");
    let main = b("main");
    let put = |c| {
        f.engine.upload_object(
            &f.repo,
            &main,
            &path,
            ByteStream::from_bytes("v"),
            upload(c),
        )
    };
    let first = put(WriteCondition::IfAbsent).await.unwrap();
    assert!(matches!(
        put(WriteCondition::IfAbsent).await,
        Err(Error::PreconditionFailed)
    ));
    assert!(matches!(
        put(WriteCondition::IfMatch("nope".into())).await,
        Err(Error::PreconditionFailed)
    ));
    put(WriteCondition::IfMatch(format!("\"{}\"", first.checksum)))
        .await
        .unwrap();
    let missing = f
        .engine
        .upload_object(
            &f.repo,
            &b("main"),
            &p("absent"),
            ByteStream::from_bytes("v"),
            upload(WriteCondition::IfMatch("x".into())),
        )
        .await;
    assert!(matches!(missing, Err(Error::PreconditionFailed)));
    let no_branch = f
        .engine
        .upload_object(
            &f.repo,
            &b("nobranch"),
            &p("a"),
            ByteStream::from_bytes("v"),
            upload(WriteCondition::Always),
        )
        .await;
    assert!(
        matches!(
            no_branch,
            Err(Error::NotFound {
                entity: Entity::Branch,
                ..
            })
        ),
        "{no_branch:?}"
    );
}

#[tokio::test]
async fn copies_get_their_own_data_and_links_stage_written_data() {
    let f = fixture().await;
    let src = f
        .engine
        .upload_object(
            &f.repo,
            &b("main"),
            &p("src"),
            ByteStream::from_bytes("data"),
            upload(WriteCondition::Always),
        )
        .await
        .unwrap();
    f.commit("main", "src").await;
    f.engine
        .create_branch(&f.repo, b("dev"), "main")
        .await
        .unwrap();
    let copy = f
        .engine
        .copy_object(&f.repo, "main", &p("src"), &b("dev"), &p("copy"))
        .await
        .unwrap();
    assert_ne!(copy.address, src.address);
    assert_eq!(copy.checksum, src.checksum);
    assert_eq!(
        body(
            f.engine
                .read_object(&f.repo, "dev", &p("copy"), None)
                .await
                .unwrap()
        )
        .await,
        b"data"
    );

    let (key, uri) = f
        .engine
        .new_physical_address(&f.repo, &p("linked"))
        .await
        .unwrap();
    assert!(uri.starts_with("mem://repo/data/"), "{uri}");
    let ns = StorageNamespace::new("mem://repo").unwrap();
    f.engine
        .stores()
        .blocks
        .put(&ns, &key, ByteStream::from_bytes("direct"), None)
        .await
        .unwrap();
    let link = LinkRequest {
        key: key.clone(),
        checksum: tarn_ports::md5_hex(b"direct"),
        size: 6,
        content_type: None,
        metadata: BTreeMap::new(),
        condition: WriteCondition::Always,
    };
    f.engine
        .link_object(&f.repo, &b("dev"), &p("linked"), link.clone())
        .await
        .unwrap();
    assert_eq!(
        body(
            f.engine
                .read_object(&f.repo, "dev", &p("linked"), None)
                .await
                .unwrap()
        )
        .await,
        b"direct"
    );
    // The address links only at the path it was given out for, and data
    // written by other means (its address shows in listings) never links.
    let elsewhere = f
        .engine
        .link_object(&f.repo, &b("dev"), &p("elsewhere"), link.clone())
        .await;
    assert!(
        matches!(
            elsewhere,
            Err(Error::InvalidInput {
                field: "physical_address",
                ..
            })
        ),
        "{elsewhere:?}"
    );
    let listed = f
        .engine
        .stat_object(&f.repo, "dev", &p("copy"))
        .await
        .unwrap();
    let tarn_model::PhysicalAddress::Relative(listed_key) = listed.address else {
        panic!("a relative address");
    };
    let stolen = LinkRequest {
        key: listed_key,
        ..link.clone()
    };
    let stolen = f
        .engine
        .link_object(&f.repo, &b("dev"), &p("copy"), stolen)
        .await;
    assert!(
        matches!(
            stolen,
            Err(Error::InvalidInput {
                field: "physical_address",
                ..
            })
        ),
        "{stolen:?}"
    );
    let bad_checksum = LinkRequest {
        checksum: tarn_ports::md5_hex(b"other!"),
        ..link.clone()
    };
    assert!(matches!(
        f.engine
            .link_object(&f.repo, &b("dev"), &p("linked"), bad_checksum)
            .await,
        Err(Error::InvalidInput {
            field: "checksum",
            ..
        })
    ));
    // Linkable for the link lifetime (24 hours by the key's hour), not after.
    f.clock.advance(24 * 3600 * 1_000_000);
    f.engine
        .link_object(&f.repo, &b("dev"), &p("linked"), link.clone())
        .await
        .unwrap();
    f.clock.advance(3600 * 1_000_000);
    let late = f
        .engine
        .link_object(&f.repo, &b("dev"), &p("linked"), link.clone())
        .await;
    assert!(
        matches!(&late, Err(Error::InvalidInput { reason, .. }) if reason.contains("expired")),
        "{late:?}"
    );
    f.clock.advance(-25 * 3600 * 1_000_000);
    let bad_size = LinkRequest { size: 7, ..link };
    assert!(matches!(
        f.engine
            .link_object(&f.repo, &b("dev"), &p("linked"), bad_size)
            .await,
        Err(Error::InvalidInput {
            field: "size_bytes",
            ..
        })
    ));
}

/// Every way of staging data checks branch protection: uploads, links and
/// multipart completion (which started before the branch was protected).
#[tokio::test]
async fn protected_branches_refuse_uploads_links_and_multipart_completion() {
    let f = fixture().await;
    let started = f
        .engine
        .create_multipart_upload(
            &f.repo,
            &b("main"),
            &p("mp"),
            (None, BTreeMap::new(), BTreeMap::new()),
        )
        .await
        .unwrap();
    let number = tarn_model::PartNumber::new(1).unwrap();
    let etag = f
        .engine
        .upload_part(
            &f.repo,
            started.upload_id.as_str(),
            number,
            ByteStream::from_bytes("part"),
            None,
        )
        .await
        .unwrap();
    let (key, _) = f
        .engine
        .new_physical_address(&f.repo, &p("linked"))
        .await
        .unwrap();
    let ns = StorageNamespace::new("mem://repo").unwrap();
    let blocks = &f.engine.stores().blocks;
    blocks
        .put(&ns, &key, ByteStream::from_bytes("direct"), None)
        .await
        .unwrap();
    f.engine
        .set_branch_protection(&f.repo, vec!["main".into()], None)
        .await
        .unwrap();

    let up = f
        .engine
        .upload_object(
            &f.repo,
            &b("main"),
            &p("up"),
            ByteStream::from_bytes("x"),
            upload(WriteCondition::Always),
        )
        .await;
    assert!(matches!(up, Err(Error::ProtectedBranch { .. })), "{up:?}");
    let link = LinkRequest {
        key,
        checksum: tarn_ports::md5_hex(b"direct"),
        size: 6,
        content_type: None,
        metadata: BTreeMap::new(),
        condition: WriteCondition::Always,
    };
    let linked = f
        .engine
        .link_object(&f.repo, &b("main"), &p("linked"), link)
        .await;
    assert!(
        matches!(linked, Err(Error::ProtectedBranch { .. })),
        "{linked:?}"
    );
    let parts = [tarn_ports::CompletedPart { number, etag }];
    let done = f
        .engine
        .complete_multipart_upload(
            &f.repo,
            started.upload_id.as_str(),
            &parts,
            WriteCondition::Always,
        )
        .await;
    assert!(
        matches!(done, Err(Error::ProtectedBranch { .. })),
        "{done:?}"
    );
    for path in ["up", "linked", "mp"] {
        let stat = f.engine.stat_object(&f.repo, "main", &p(path)).await;
        assert!(stat.is_err(), "{path} was staged on a protected branch");
    }
}
