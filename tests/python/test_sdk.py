"""The generated OpenAPI client (lakefs-sdk) against Tarn: wire shapes and status codes."""

from __future__ import annotations

import json
import tempfile

import lakefs_sdk
import pytest
from lakefs_sdk import (
    BranchCreation,
    CherryPickCreation,
    CommitCreation,
    Merge,
    ObjectCopyCreation,
    PathList,
    RepositoryCreation,
    ResetCreation,
    RevertCreation,
    TagCreation,
)

from conftest import BLOCKSTORE_TYPE, ON_S3, md5_hex, namespace, unique


def upload(apis, repo, branch, path, data: bytes, **kwargs):
    """SDK upload: multipart/form-data with a part named "content".

    The plain generated ApiClient takes a file *name* for the file part, so the
    bytes go through a temporary file.
    """
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(data)
        f.flush()
        return apis.objects.upload_object(repo, branch, path, content=f.name, **kwargs)


def read(apis, repo, ref, path) -> bytes:
    return bytes(apis.objects.get_object(repo, ref, path))


def error_status(excinfo) -> int:
    return excinfo.value.status


def error_json(excinfo) -> dict:
    body = json.loads(excinfo.value.body)
    assert isinstance(body, dict), body
    return body


# --- config -----------------------------------------------------------------


def test_get_config(apis):
    config = apis.config.get_config()
    storage = config.storage_config
    assert storage is not None
    assert storage.pre_sign_support is ON_S3
    assert storage.pre_sign_support_ui is False  # as lakeFS: browsers would need CORS on the bucket
    assert storage.blockstore_type == BLOCKSTORE_TYPE
    assert storage.blockstore_namespace_example
    assert storage.blockstore_namespace_validity_regex
    assert isinstance(storage.import_support, bool)
    assert config.version_config is not None
    assert config.version_config.version
    # As lakeFS with one block store: the list is empty, storage_config is it
    # (the lakefs wrapper reads either).
    assert config.storage_config_list == []


def test_unauthenticated_request_is_401(base_url):
    configuration = lakefs_sdk.Configuration(
        host=f"{base_url}/api/v1", username="AKIAIOSFOLQUICKSTART", password="wrong-secret"
    )
    with lakefs_sdk.ApiClient(configuration) as client:
        with pytest.raises(lakefs_sdk.ApiException) as excinfo:
            lakefs_sdk.RepositoriesApi(client).list_repositories()
    assert error_status(excinfo) == 401
    assert "message" in error_json(excinfo)


# --- repositories -----------------------------------------------------------


def test_repository_lifecycle(apis):
    name = unique("sdkrepo")
    created = apis.repos.create_repository(
        RepositoryCreation(name=name, storage_namespace=namespace(name), default_branch="main")
    )
    assert created.id == name
    assert created.default_branch == "main"
    assert created.storage_namespace == namespace(name)
    assert created.creation_date > 0

    got = apis.repos.get_repository(name)
    assert (got.id, got.default_branch, got.storage_namespace) == (
        name,
        "main",
        namespace(name),
    )
    assert got.creation_date == created.creation_date

    listed = apis.repos.list_repositories(prefix=name)
    assert [r.id for r in listed.results] == [name]
    assert listed.pagination.has_more is False
    assert listed.pagination.results == 1

    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.repos.create_repository(
            RepositoryCreation(name=name, storage_namespace=namespace(f"{name}-other"))
        )
    assert error_status(excinfo) == 409
    assert "message" in error_json(excinfo)

    # the initial commit exists and the default branch points at it
    main = apis.branches.get_branch(name, "main")
    log = apis.refs.log_commits(name, "main")
    assert [c.id for c in log.results] == [main.commit_id]

    apis.repos.delete_repository(name)
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.repos.get_repository(name)
    assert error_status(excinfo) == 404
    assert "message" in error_json(excinfo)


def test_list_repositories_pagination(apis):
    stem = unique("pages")
    names = [f"{stem}-{i}" for i in range(3)]
    for n in names:
        apis.repos.create_repository(RepositoryCreation(name=n, storage_namespace=namespace(n)))
    try:
        first = apis.repos.list_repositories(prefix=stem, amount=2)
        assert [r.id for r in first.results] == names[:2]
        assert first.pagination.has_more is True
        assert first.pagination.next_offset == names[1]
        assert first.pagination.results == 2
        assert first.pagination.max_per_page == 1000
        second = apis.repos.list_repositories(
            prefix=stem, amount=2, after=first.pagination.next_offset
        )
        assert [r.id for r in second.results] == names[2:]
        assert second.pagination.has_more is False
        assert second.pagination.results == 1
    finally:
        for n in names:
            apis.repos.delete_repository(n)


# --- branches ---------------------------------------------------------------


def test_branch_lifecycle(apis, repo_name):
    main = apis.branches.get_branch(repo_name, "main")
    assert main.id == "main"
    assert main.commit_id

    created = apis.branches.create_branch(repo_name, BranchCreation(name="feature", source="main"))
    assert created == main.commit_id, "createBranch answers with the new branch's commit id"

    feature = apis.branches.get_branch(repo_name, "feature")
    assert (feature.id, feature.commit_id) == ("feature", main.commit_id)

    listing = apis.branches.list_branches(repo_name)
    assert [b.id for b in listing.results] == ["feature", "main"]
    assert {b.id: b.commit_id for b in listing.results}["feature"] == main.commit_id

    page = apis.branches.list_branches(repo_name, amount=1)
    assert [b.id for b in page.results] == ["feature"]
    assert page.pagination.has_more is True
    assert page.pagination.next_offset == "feature"
    rest = apis.branches.list_branches(repo_name, amount=1, after="feature")
    assert [b.id for b in rest.results] == ["main"]
    assert rest.pagination.has_more is False

    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.branches.create_branch(repo_name, BranchCreation(name="feature", source="main"))
    assert error_status(excinfo) == 409

    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.branches.create_branch(repo_name, BranchCreation(name="other", source="no-such-ref"))
    assert error_status(excinfo) == 404

    apis.branches.delete_branch(repo_name, "feature")
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.branches.get_branch(repo_name, "feature")
    assert error_status(excinfo) == 404

    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.branches.delete_branch(repo_name, "main")
    assert error_status(excinfo) == 403, "deleting the default branch is forbidden"


# --- objects ----------------------------------------------------------------


def test_upload_stat_get_head(apis, repo_name):
    data = b"hello, tarn!\n" * 10
    stats = upload(apis, repo_name, "main", "data/hello.txt", data)
    assert stats.path == "data/hello.txt"
    assert stats.path_type == "object"
    assert stats.size_bytes == len(data)
    assert stats.checksum == md5_hex(data)
    assert stats.mtime > 0
    assert stats.physical_address

    stat = apis.objects.stat_object(repo_name, "main", "data/hello.txt")
    assert (stat.path, stat.size_bytes, stat.checksum) == (
        "data/hello.txt",
        len(data),
        md5_hex(data),
    )

    assert read(apis, repo_name, "main", "data/hello.txt") == data

    head = apis.objects.head_object_with_http_info(repo_name, "main", "data/hello.txt")
    assert head.status_code == 200
    assert int(head.headers["Content-Length"]) == len(data)
    assert head.headers["ETag"].strip('"') == md5_hex(data)

    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.objects.head_object(repo_name, "main", "data/missing.txt")
    assert error_status(excinfo) == 404
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.objects.stat_object(repo_name, "main", "data/missing.txt")
    assert error_status(excinfo) == 404
    assert "message" in error_json(excinfo)
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.objects.get_object(repo_name, "main", "data/missing.txt")
    assert error_status(excinfo) == 404


def test_upload_with_user_metadata_headers(apis, repo_name):
    data = b'{"a": 1}'
    upload(
        apis,
        repo_name,
        "main",
        "meta.json",
        data,
        _headers={"x-lakefs-meta-owner": "alice", "x-lakefs-meta-stage": "raw"},
    )
    stat = apis.objects.stat_object(repo_name, "main", "meta.json", user_metadata=True)
    assert stat.metadata == {"owner": "alice", "stage": "raw"}
    assert stat.checksum == md5_hex(data)


def test_upload_if_none_match_star_is_412_on_existing(apis, repo_name):
    upload(apis, repo_name, "main", "once.txt", b"first")
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        upload(apis, repo_name, "main", "once.txt", b"second", if_none_match="*")
    assert error_status(excinfo) == 412
    assert read(apis, repo_name, "main", "once.txt") == b"first"
    # a new path is accepted with If-None-Match: *
    stats = upload(apis, repo_name, "main", "twice.txt", b"new", if_none_match="*")
    assert stats.checksum == md5_hex(b"new")


def test_ranged_get(apis, repo_name):
    data = bytes(range(256)) * 4
    upload(apis, repo_name, "main", "bin/blob", data)

    resp = apis.objects.get_object_with_http_info(repo_name, "main", "bin/blob", range="bytes=10-19")
    assert resp.status_code == 206
    assert bytes(resp.data) == data[10:20]
    assert resp.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert int(resp.headers["Content-Length"]) == 10

    resp = apis.objects.get_object_with_http_info(repo_name, "main", "bin/blob", range="bytes=1000-")
    assert resp.status_code == 206
    assert bytes(resp.data) == data[1000:]
    assert resp.headers["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"

    resp = apis.objects.get_object_with_http_info(repo_name, "main", "bin/blob")
    assert resp.status_code == 200
    assert int(resp.headers["Content-Length"]) == len(data)
    assert resp.headers["ETag"].strip('"') == md5_hex(data)

    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.objects.get_object(repo_name, "main", "bin/blob", range=f"bytes={len(data)}-")
    assert error_status(excinfo) == 416
    assert excinfo.value.headers["Content-Range"] == f"bytes */{len(data)}"


def test_list_objects_pagination_and_delimiter(apis, repo_name):
    paths = [f"many/obj-{i:02d}" for i in range(7)]
    for p in paths:
        upload(apis, repo_name, "main", p, p.encode())
    upload(apis, repo_name, "main", "many/sub/deep-1", b"d1")
    upload(apis, repo_name, "main", "many/sub/deep-2", b"d2")
    upload(apis, repo_name, "main", "other/x", b"x")

    seen = []
    after = ""
    pages = 0
    while True:
        page = apis.objects.list_objects(repo_name, "main", prefix="many/obj-", amount=3, after=after)
        pages += 1
        seen.extend(page.results)
        assert page.pagination.results == len(page.results)
        if not page.pagination.has_more:
            break
        assert page.pagination.next_offset == page.results[-1].path
        after = page.pagination.next_offset
        assert pages < 10
    assert pages == 3
    assert [o.path for o in seen] == paths
    assert all(o.path_type == "object" for o in seen)
    assert [o.checksum for o in seen] == [md5_hex(p.encode()) for p in paths]
    assert [o.size_bytes for o in seen] == [len(p) for p in paths]

    listing = apis.objects.list_objects(repo_name, "main", prefix="many/", delimiter="/", amount=100)
    entries = [(o.path, o.path_type) for o in listing.results]
    assert entries == [(p, "object") for p in paths] + [("many/sub/", "common_prefix")]

    top = apis.objects.list_objects(repo_name, "main", delimiter="/")
    assert [(o.path, o.path_type) for o in top.results] == [
        ("many/", "common_prefix"),
        ("other/", "common_prefix"),
    ]

    everything = apis.objects.list_objects(repo_name, "main")
    assert len(everything.results) == 10


def test_delete_object_and_delete_objects(apis, repo_name):
    for p in ["d/a", "d/b", "d/c", "d/keep"]:
        upload(apis, repo_name, "main", p, p.encode())

    apis.objects.delete_object(repo_name, "main", "d/a")
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.objects.head_object(repo_name, "main", "d/a")
    assert error_status(excinfo) == 404

    result = apis.objects.delete_objects(repo_name, "main", PathList(paths=["d/b", "d/c"]))
    assert result.errors == []
    remaining = apis.objects.list_objects(repo_name, "main", prefix="d/")
    assert [o.path for o in remaining.results] == ["d/keep"]


def test_copy_object(apis, repo_name):
    data = b"copy me"
    upload(apis, repo_name, "main", "src.txt", data)
    apis.branches.create_branch(repo_name, BranchCreation(name="dest", source="main"))
    stats = apis.objects.copy_object(
        repo_name, "dest", "copied/dst.txt", ObjectCopyCreation(src_path="src.txt", src_ref="main")
    )
    assert stats.path == "copied/dst.txt"
    assert stats.checksum == md5_hex(data)
    assert stats.size_bytes == len(data)
    assert read(apis, repo_name, "dest", "copied/dst.txt") == data


# --- commits, diff, merge ---------------------------------------------------


def test_commit_log_get_commit_and_diffs(apis, repo_name):
    base = apis.branches.get_branch(repo_name, "main").commit_id
    upload(apis, repo_name, "main", "c/one.txt", b"one")
    upload(apis, repo_name, "main", "c/two.txt", b"two!")

    uncommitted = apis.branches.diff_branch(repo_name, "main")
    assert [(d.type, d.path, d.path_type, d.size_bytes) for d in uncommitted.results] == [
        ("added", "c/one.txt", "object", 3),
        ("added", "c/two.txt", "object", 4),
    ]
    assert uncommitted.pagination.has_more is False

    commit = apis.commits.commit(
        repo_name, "main", CommitCreation(message="first data", metadata={"k": "v"})
    )
    assert commit.message == "first data"
    assert commit.metadata == {"k": "v"}
    assert commit.parents == [base]
    assert commit.committer
    assert commit.meta_range_id
    assert commit.creation_date > 0

    assert apis.branches.diff_branch(repo_name, "main").results == []
    assert apis.branches.get_branch(repo_name, "main").commit_id == commit.id

    by_branch = apis.commits.get_commit(repo_name, "main")
    assert by_branch.id == commit.id
    assert by_branch.metadata == {"k": "v"}
    by_id = apis.commits.get_commit(repo_name, commit.id)
    assert by_id.id == commit.id

    log = apis.refs.log_commits(repo_name, "main")
    assert [c.id for c in log.results] == [commit.id, base]
    assert log.results[0].message == "first data"
    page = apis.refs.log_commits(repo_name, "main", amount=1)
    assert [c.id for c in page.results] == [commit.id]
    assert page.pagination.has_more is True

    diff = apis.refs.diff_refs(repo_name, base, "main")
    assert [(d.type, d.path) for d in diff.results] == [
        ("added", "c/one.txt"),
        ("added", "c/two.txt"),
    ]

    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.commits.commit(repo_name, "main", CommitCreation(message="nothing"))
    assert error_status(excinfo) == 400, "committing with no changes is a 400"

    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.commits.get_commit(repo_name, "no-such-ref")
    assert error_status(excinfo) == 404


def test_merge_and_conflict(apis, repo_name):
    upload(apis, repo_name, "main", "m/shared.txt", b"base")
    apis.commits.commit(repo_name, "main", CommitCreation(message="base"))
    apis.branches.create_branch(repo_name, BranchCreation(name="feat", source="main"))

    upload(apis, repo_name, "feat", "m/new.txt", b"from feat")
    feat_commit = apis.commits.commit(repo_name, "feat", CommitCreation(message="feat work"))

    main_before = apis.branches.get_branch(repo_name, "main").commit_id
    merged = apis.refs.merge_into_branch(repo_name, "feat", "main", merge=Merge(message="merge feat"))
    assert merged.reference
    main_head = apis.branches.get_branch(repo_name, "main").commit_id
    assert merged.reference == main_head
    merge_commit = apis.commits.get_commit(repo_name, main_head)
    assert merge_commit.parents == [main_before, feat_commit.id]
    assert merge_commit.message == "merge feat"
    assert merge_commit.metadata == {".lakefs.merge.strategy": "default"}
    assert read(apis, repo_name, "main", "m/new.txt") == b"from feat"

    # conflicting change on both sides
    upload(apis, repo_name, "main", "m/shared.txt", b"main side")
    apis.commits.commit(repo_name, "main", CommitCreation(message="main edit"))
    upload(apis, repo_name, "feat", "m/shared.txt", b"feat side")
    apis.commits.commit(repo_name, "feat", CommitCreation(message="feat edit"))

    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.refs.merge_into_branch(repo_name, "feat", "main", merge=Merge())
    assert error_status(excinfo) == 409
    assert read(apis, repo_name, "main", "m/shared.txt") == b"main side"

    merged = apis.refs.merge_into_branch(
        repo_name, "feat", "main", merge=Merge(strategy="source-wins")
    )
    assert merged.reference == apis.branches.get_branch(repo_name, "main").commit_id
    assert read(apis, repo_name, "main", "m/shared.txt") == b"feat side"
    merge_commit = apis.commits.get_commit(repo_name, merged.reference)
    assert merge_commit.message == "Merge 'feat' into 'main'"
    assert merge_commit.metadata == {".lakefs.merge.strategy": "source-wins"}


def test_revert_cherry_pick_reset(apis, repo_name):
    upload(apis, repo_name, "main", "r/a.txt", b"a")
    c1 = apis.commits.commit(repo_name, "main", CommitCreation(message="add a"))
    upload(apis, repo_name, "main", "r/b.txt", b"b")
    c2 = apis.commits.commit(repo_name, "main", CommitCreation(message="add b"))

    apis.branches.revert_branch(repo_name, "main", RevertCreation(ref=c2.id, parent_number=0))
    head = apis.commits.get_commit(repo_name, "main")
    assert head.parents == [c2.id]
    names = [o.path for o in apis.objects.list_objects(repo_name, "main", prefix="r/").results]
    assert names == ["r/a.txt"]

    apis.branches.create_branch(repo_name, BranchCreation(name="pick", source=c1.id))
    picked = apis.branches.cherry_pick(repo_name, "pick", CherryPickCreation(ref=c2.id))
    assert picked.parents == [c1.id]
    assert apis.branches.get_branch(repo_name, "pick").commit_id == picked.id
    assert read(apis, repo_name, "pick", "r/b.txt") == b"b"

    upload(apis, repo_name, "main", "r/tmp1", b"1")
    upload(apis, repo_name, "main", "r/tmp2", b"2")
    upload(apis, repo_name, "main", "s/tmp3", b"3")
    apis.branches.reset_branch(repo_name, "main", ResetCreation(type="object", path="r/tmp1"))
    assert [d.path for d in apis.branches.diff_branch(repo_name, "main").results] == [
        "r/tmp2",
        "s/tmp3",
    ]
    apis.branches.reset_branch(repo_name, "main", ResetCreation(type="common_prefix", path="s/"))
    assert [d.path for d in apis.branches.diff_branch(repo_name, "main").results] == ["r/tmp2"]
    apis.branches.reset_branch(repo_name, "main", ResetCreation(type="reset"))
    assert apis.branches.diff_branch(repo_name, "main").results == []


def test_tags(apis, repo_name):
    upload(apis, repo_name, "main", "t.txt", b"t")
    commit = apis.commits.commit(repo_name, "main", CommitCreation(message="tagged"))

    ref = apis.tags.create_tag(repo_name, TagCreation(id="v1", ref="main"))
    assert (ref.id, ref.commit_id) == ("v1", commit.id)
    got = apis.tags.get_tag(repo_name, "v1")
    assert (got.id, got.commit_id) == ("v1", commit.id)
    assert apis.commits.get_commit(repo_name, "v1").id == commit.id
    assert read(apis, repo_name, "v1", "t.txt") == b"t"

    apis.tags.create_tag(repo_name, TagCreation(id="v2", ref=commit.id))
    listing = apis.tags.list_tags(repo_name)
    assert [(t.id, t.commit_id) for t in listing.results] == [("v1", commit.id), ("v2", commit.id)]

    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.tags.create_tag(repo_name, TagCreation(id="v1", ref="main"))
    assert error_status(excinfo) == 409

    apis.tags.delete_tag(repo_name, "v1")
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.tags.get_tag(repo_name, "v1")
    assert error_status(excinfo) == 404
    assert [t.id for t in apis.tags.list_tags(repo_name).results] == ["v2"]


def test_create_branch_wire_format(apis, repo_name):
    """createBranch answers 201 with the commit id as a text/html body (not JSON)."""
    main = apis.branches.get_branch(repo_name, "main")
    resp = apis.branches.create_branch_with_http_info(
        repo_name, BranchCreation(name="wire", source="main")
    )
    assert resp.status_code == 201
    assert resp.headers["Content-Type"].startswith("text/html")
    raw = resp.raw_data.decode() if isinstance(resp.raw_data, bytes) else resp.raw_data
    assert raw == main.commit_id
    assert resp.data == main.commit_id


def test_upload_answers_201_and_keeps_part_content_type(apis, repo_name):
    with tempfile.NamedTemporaryFile(suffix=".csv") as f:
        f.write(b"a,b\n1,2\n")
        f.flush()
        resp = apis.objects.upload_object_with_http_info(repo_name, "main", "t.csv", content=f.name)
    assert resp.status_code == 201
    assert resp.data.content_type == "text/csv"
    assert apis.objects.stat_object(repo_name, "main", "t.csv").content_type == "text/csv"


def test_get_object_if_none_match_is_304(apis, repo_name):
    upload(apis, repo_name, "main", "etag.txt", b"etag me")
    resp = apis.objects.get_object_with_http_info(repo_name, "main", "etag.txt")
    etag = resp.headers["ETag"]
    assert etag == f'"{md5_hex(b"etag me")}"'
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.objects.get_object(repo_name, "main", "etag.txt", if_none_match=etag)
    assert error_status(excinfo) == 304
    other = apis.objects.get_object(repo_name, "main", "etag.txt", if_none_match='"0000"')
    assert bytes(other) == b"etag me"


def test_diff_refs_with_delimiter(apis, repo_name):
    base = apis.branches.get_branch(repo_name, "main").commit_id
    upload(apis, repo_name, "main", "a/1.txt", b"1")
    upload(apis, repo_name, "main", "a/2.txt", b"2")
    upload(apis, repo_name, "main", "b.txt", b"b")
    apis.commits.commit(repo_name, "main", CommitCreation(message="tree"))
    diff = apis.refs.diff_refs(repo_name, base, "main", delimiter="/")
    assert [(d.type, d.path, d.path_type) for d in diff.results] == [
        ("prefix_changed", "a/", "common_prefix"),
        ("added", "b.txt", "object"),
    ]
    page = apis.refs.diff_refs(repo_name, base, "main", amount=2)
    assert [d.path for d in page.results] == ["a/1.txt", "a/2.txt"]
    assert page.pagination.has_more is True
    assert page.pagination.next_offset == "a/2.txt"
    rest = apis.refs.diff_refs(repo_name, base, "main", amount=2, after="a/2.txt")
    assert [d.path for d in rest.results] == ["b.txt"]
    assert rest.pagination.has_more is False


def test_ref_expressions(apis, repo_name):
    initial = apis.branches.get_branch(repo_name, "main").commit_id
    upload(apis, repo_name, "main", "e.txt", b"v1")
    c1 = apis.commits.commit(repo_name, "main", CommitCreation(message="c1"))
    upload(apis, repo_name, "main", "e.txt", b"v2")
    c2 = apis.commits.commit(repo_name, "main", CommitCreation(message="c2"))
    upload(apis, repo_name, "main", "e.txt", b"staged")

    assert apis.commits.get_commit(repo_name, "main~1").id == c1.id
    assert apis.commits.get_commit(repo_name, "main~2").id == initial
    assert apis.commits.get_commit(repo_name, "main^").id == c1.id
    assert apis.commits.get_commit(repo_name, c2.id[:12]).id == c2.id
    assert read(apis, repo_name, "main", "e.txt") == b"staged"
    assert read(apis, repo_name, "main@", "e.txt") == b"v2"
    assert read(apis, repo_name, "main~1", "e.txt") == b"v1"


def test_validation_and_preconditions(apis, repo_name):
    # invalid identifiers -> 400
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        # construct() skips the SDK's own client-side pattern check, so the server sees it
        apis.repos.create_repository(
            RepositoryCreation.construct(name="Bad_Repo!", storage_namespace=namespace("bad-repo"))
        )
    assert error_status(excinfo) == 400
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.branches.create_branch(repo_name, BranchCreation(name="bad name!", source="main"))
    assert error_status(excinfo) == 400
    assert "message" in error_json(excinfo)

    # empty commit only with allow_empty
    empty = apis.commits.commit(
        repo_name, "main", CommitCreation(message="empty", allow_empty=True)
    )
    assert apis.branches.get_branch(repo_name, "main").commit_id == empty.id

    # merge into / revert on a dirty destination -> 400
    apis.branches.create_branch(repo_name, BranchCreation(name="src", source="main"))
    upload(apis, repo_name, "src", "s.txt", b"s")
    src_commit = apis.commits.commit(repo_name, "src", CommitCreation(message="s"))
    upload(apis, repo_name, "main", "dirty.txt", b"dirty")
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.refs.merge_into_branch(repo_name, "src", "main", merge=Merge())
    assert error_status(excinfo) == 400
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.branches.revert_branch(
            repo_name, "main", RevertCreation(ref=empty.id, parent_number=0)
        )
    assert error_status(excinfo) == 400

    # unknown refs and tags -> 404
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.tags.delete_tag(repo_name, "no-such-tag")
    assert error_status(excinfo) == 404
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.refs.merge_into_branch(repo_name, "no-such-ref", "src", merge=Merge())
    assert error_status(excinfo) == 404
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.objects.list_objects(repo_name, "no-such-ref")
    assert error_status(excinfo) == 404
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.repos.get_repository("no-such-repo-" + repo_name)
    assert error_status(excinfo) == 404
    assert apis.commits.get_commit(repo_name, "src").id == src_commit.id
