"""The high-level lakeFS Python wrapper (package `lakefs`) against Tarn."""

from __future__ import annotations

import io
import os

import lakefs
import lakefs_sdk
import pytest
from lakefs.exceptions import (
    ConflictException,
    ForbiddenException,
    NotFoundException,
    ObjectExistsException,
    ObjectNotFoundException,
)
from lakefs.models import CommonPrefix, ObjectInfo

from conftest import BLOCKSTORE_TYPE, ON_S3, md5_hex, namespace, unique


def test_client_server_configuration(lakefs_client):
    assert lakefs_client.version
    storage = lakefs_client.storage_config
    assert storage.pre_sign_support is ON_S3
    assert storage.blockstore_type == BLOCKSTORE_TYPE
    assert storage.import_support is False or storage.import_support is True


def test_repository_create_exist_ok_list_delete(lakefs_client):
    name = unique("wraprepo")
    repo = lakefs.Repository(name, client=lakefs_client).create(
        storage_namespace=namespace(name), default_branch="main"
    )
    props = repo.properties
    assert (props.id, props.default_branch, props.storage_namespace) == (
        name,
        "main",
        namespace(name),
    )
    assert props.creation_date > 0

    with pytest.raises(ConflictException) as excinfo:
        lakefs.Repository(name, client=lakefs_client).create(storage_namespace=namespace(f"{name}-2"))
    assert excinfo.value.status_code == 409

    again = lakefs.Repository(name, client=lakefs_client).create(
        storage_namespace=namespace(f"{name}-2"), exist_ok=True
    )
    assert again.properties.storage_namespace == namespace(name), "exist_ok returns the existing repo"
    assert again.properties.creation_date == props.creation_date

    assert [r.id for r in lakefs.repositories(client=lakefs_client, prefix=name)] == [name]
    assert repo.metadata == {}

    repo.delete()
    with pytest.raises(NotFoundException):
        _ = lakefs.Repository(name, client=lakefs_client).properties
    assert list(lakefs.repositories(client=lakefs_client, prefix=name)) == []


def test_branches(repo):
    main_head = repo.branch("main").head.id
    assert main_head

    feature = repo.branch("feature").create("main")
    assert feature.head.id == main_head
    # exist_ok swallows the 409 of createBranch
    assert repo.branch("feature").create("main", exist_ok=True).id == "feature"
    with pytest.raises(ConflictException):
        repo.branch("feature").create("main")

    assert [b.id for b in repo.branches()] == ["feature", "main"]
    assert [b.id for b in repo.branches(prefix="fea")] == ["feature"]
    assert [b.id for b in repo.branches(max_amount=1)] == ["feature"]
    # page size 1 forces the wrapper to follow pagination.next_offset
    assert [b.id for b in repo.branches(amount=1)] == ["feature", "main"]

    feature.delete()
    with pytest.raises(NotFoundException):
        _ = repo.branch("feature").head
    with pytest.raises(NotFoundException):
        repo.branch("ghost").create("no-such-ref")
    with pytest.raises(ForbiddenException):
        repo.branch("main").delete()


def test_upload_with_metadata_and_stat(repo):
    data = "some text, ünïcode\n" * 3
    obj = repo.branch("main").object("docs/readme.txt").upload(
        data, content_type="text/plain", metadata={"author": "tarn", "team": "data"}
    )
    stat = obj.stat()
    raw = data.encode("utf-8")
    assert stat.path == "docs/readme.txt"
    assert stat.size_bytes == len(raw)
    assert stat.checksum == md5_hex(raw)
    assert stat.content_type == "text/plain"
    assert stat.metadata == {"author": "tarn", "team": "data"}
    assert stat.mtime > 0
    assert stat.physical_address

    assert obj.exists() is True
    assert repo.branch("main").object("docs/nope.txt").exists() is False
    with pytest.raises(ObjectNotFoundException):
        repo.branch("main").object("docs/nope.txt").stat()

    with obj.reader(mode="r") as r:
        assert r.read() == data
    with obj.reader(mode="rb") as r:
        assert r.read() == raw

    default_type = repo.branch("main").object("docs/blob").upload(b"\x00\x01")
    assert default_type.stat().content_type == "application/octet-stream"


def test_exclusive_mode_raises_object_exists(repo):
    branch = repo.branch("main")
    obj = branch.object("excl.txt").upload("v1", mode="x")
    assert obj.reader().read() == b"v1"

    with pytest.raises(ObjectExistsException):
        branch.object("excl.txt").upload("v2", mode="x")
    with pytest.raises(ObjectExistsException):
        branch.object("excl.txt").writer(mode="xb")
    assert branch.object("excl.txt").reader().read() == b"v1"

    # 'w' overwrites
    branch.object("excl.txt").upload("v3", mode="w")
    assert branch.object("excl.txt").reader().read() == b"v3"


def test_exclusive_mode_lost_race_is_412(repo):
    """Mode 'x' checks existence first; if the object appears in between, the upload
    itself must fail with 412 (If-None-Match: *) -> ObjectExistsException."""
    branch = repo.branch("main")
    writer = branch.object("race.txt").writer(mode="xb")  # object absent: passes the pre-check
    writer.write(b"late writer")
    branch.object("race.txt").upload(b"early writer")
    with pytest.raises(ObjectExistsException) as excinfo:
        writer.close()
    assert excinfo.value.status_code == 412
    assert branch.object("race.txt").reader().read() == b"early writer"


def test_object_writer_chunks(repo):
    obj = repo.branch("main").object("chunks/file.bin")
    chunks = [os.urandom(1000) for _ in range(5)]
    with obj.writer(mode="wb", metadata={"parts": "5"}) as w:
        for c in chunks:
            w.write(c)
    whole = b"".join(chunks)
    stat = obj.stat()
    assert stat.size_bytes == len(whole)
    assert stat.checksum == md5_hex(whole)
    assert stat.metadata == {"parts": "5"}
    assert obj.reader().read() == whole


def test_ranged_reads_with_seek(repo):
    data = bytes(range(256)) * 8  # 2048 bytes
    obj = repo.branch("main").object("ranged.bin").upload(data)
    with obj.reader(mode="rb") as r:
        assert r.read(10) == data[:10]
        assert r.tell() == 10
        r.seek(100)
        assert r.read(50) == data[100:150]
        r.seek(10, os.SEEK_CUR)
        assert r.tell() == 160
        assert r.read(40) == data[160:200]
        r.seek(-16, os.SEEK_END)
        assert r.read() == data[-16:]
        # reading at/after the end returns b'' (the server answers 416 with Content-Range: bytes */size)
        r.seek(len(data) + 5)
        assert r.read(10) == b""
    with obj.reader(mode="rb") as r:
        r.seek(len(data))
        assert r.read() == b""
    with obj.reader(mode="rb") as r:
        r.seek(2000)
        assert r.read(100) == data[2000:]  # range past the end is clipped
        assert r.read(1) == b""


def test_reader_readline(repo):
    text = "line one\nline two\nline three\n"
    obj = repo.branch("main").object("lines.txt").upload(text)
    with obj.reader(mode="r") as r:
        assert r.readline() == "line one\n"
        assert r.readline() == "line two\n"
        assert list(r) == ["line three\n"]


def test_listing_prefix_delimiter_pagination(repo):
    branch = repo.branch("main")
    files = [f"list/f{i:02d}.txt" for i in range(12)]
    for f in files:
        branch.object(f).upload(f)
    branch.object("list/sub/a.txt").upload("a")
    branch.object("list/sub/b.txt").upload("b")
    branch.object("zz.txt").upload("z")

    # amount=5 -> three pages of objects for the 12 files
    listed = list(branch.objects(prefix="list/f", amount=5))
    assert all(isinstance(o, ObjectInfo) for o in listed)
    assert [o.path for o in listed] == files
    assert [o.checksum for o in listed] == [md5_hex(f.encode()) for f in files]
    assert [o.size_bytes for o in listed] == [len(f) for f in files]

    entries = list(branch.objects(prefix="list/", delimiter="/", amount=4))
    assert [(type(e), e.path) for e in entries] == [(ObjectInfo, f) for f in files] + [
        (CommonPrefix, "list/sub/")
    ]

    top = list(branch.objects(delimiter="/"))
    assert [(type(e), e.path) for e in top] == [(CommonPrefix, "list/"), (ObjectInfo, "zz.txt")]

    assert [o.path for o in branch.objects(max_amount=3)] == files[:3]
    assert [o.path for o in branch.objects(after="list/f10.txt", prefix="list/")] == [
        "list/f11.txt",
        "list/sub/a.txt",
        "list/sub/b.txt",
    ]
    assert len(list(branch.objects(amount=2))) == 15


def test_delete_and_delete_many(repo):
    branch = repo.branch("main")
    for p in ["del/a", "del/b", "del/c", "del/d"]:
        branch.object(p).upload(p)
    branch.object("del/a").delete()
    assert branch.object("del/a").exists() is False
    branch.delete_objects(["del/b", branch.object("del/c")])
    assert [o.path for o in branch.objects(prefix="del/")] == ["del/d"]
    # lakeFS's graveler deletes a key found nowhere as a no-op (deleteObject -> 204)
    branch.object("del/never-was").delete()
    assert [o.path for o in branch.objects(prefix="del/")] == ["del/d"]


def test_copy(repo):
    main = repo.branch("main")
    src = main.object("copy/src.csv").upload("a,b\n1,2\n", content_type="text/csv")
    repo.branch("other").create("main")
    dst = src.copy("other", "copy/dst.csv")
    assert dst.ref == "other"
    stat = dst.stat()
    assert stat.checksum == src.stat().checksum == md5_hex(b"a,b\n1,2\n")
    assert stat.size_bytes == 8
    assert dst.reader(mode="r").read() == "a,b\n1,2\n"


def test_commit_log_get_commit_diff(repo):
    main = repo.branch("main")
    initial = main.get_commit()
    assert initial.parents == []

    main.object("c/a.txt").upload("aaa")
    main.object("c/b.txt").upload("bb")
    changes = list(main.uncommitted())
    assert [(c.type, c.path, c.path_type, c.size_bytes) for c in changes] == [
        ("added", "c/a.txt", "object", 3),
        ("added", "c/b.txt", "object", 2),
    ]

    ref = main.commit("add a and b", metadata={"source": "pytest"})
    commit = ref.get_commit()
    assert commit.id == ref.id
    assert commit.message == "add a and b"
    assert commit.metadata == {"source": "pytest"}
    assert commit.parents == [initial.id]
    assert list(main.uncommitted()) == []

    # getCommit with a branch name
    assert main.get_commit().id == ref.id
    assert repo.ref("main").get_commit().id == ref.id
    assert repo.commit(ref.id).get_commit().message == "add a and b"

    main.object("c/a.txt").upload("changed")
    main.object("c/b.txt").delete()
    changes = list(main.uncommitted())
    assert [(c.type, c.path) for c in changes] == [("changed", "c/a.txt"), ("removed", "c/b.txt")]
    ref2 = main.commit("change a, remove b")

    assert [c.id for c in main.log()] == [ref2.id, ref.id, initial.id]
    assert [c.message for c in main.log(max_amount=2)] == ["change a, remove b", "add a and b"]
    assert [c.id for c in main.log(amount=1)] == [ref2.id, ref.id, initial.id]

    diff = list(repo.ref(initial.id).diff(ref2.id))
    assert [(c.type, c.path) for c in diff] == [("added", "c/a.txt")]
    diff = list(repo.ref(ref.id).diff("main"))
    assert [(c.type, c.path) for c in diff] == [("changed", "c/a.txt"), ("removed", "c/b.txt")]
    # the older ref reads the older content
    assert repo.ref(ref.id).object("c/a.txt").reader(mode="r").read() == "aaa"


def test_merge_conflict_and_source_wins(repo):
    main = repo.branch("main")
    main.object("shared.txt").upload("base")
    main.commit("base")
    dev = repo.branch("dev").create("main")

    dev.object("only-dev.txt").upload("dev data")
    dev.commit("dev adds a file")
    merge_id = dev.merge_into(main, message="merge dev")
    assert merge_id == main.head.id
    merge_commit = main.get_commit()
    assert merge_commit.message == "merge dev"
    assert dev.head.id in merge_commit.parents
    assert main.object("only-dev.txt").reader(mode="r").read() == "dev data"

    main.object("shared.txt").upload("main version")
    main.commit("main edit")
    dev.object("shared.txt").upload("dev version")
    dev.commit("dev edit")

    with pytest.raises(ConflictException) as excinfo:
        dev.merge_into(main)
    assert excinfo.value.status_code == 409
    assert main.object("shared.txt").reader(mode="r").read() == "main version"

    merge_id = dev.merge_into(main, strategy="source-wins", metadata={"why": "test"})
    assert merge_id == main.head.id
    # lakeFS records the strategy in the merge commit's metadata
    assert main.get_commit().metadata == {"why": "test", ".lakefs.merge.strategy": "source-wins"}
    assert main.object("shared.txt").reader(mode="r").read() == "dev version"


def test_revert_and_cherry_pick(repo):
    main = repo.branch("main")
    main.object("r/keep.txt").upload("keep")
    c1 = main.commit("keep")
    main.object("r/oops.txt").upload("oops")
    c2 = main.commit("oops")

    revert_commit = main.revert(c2)
    assert revert_commit.parents == [c2.id]
    assert revert_commit.id == main.head.id
    assert main.object("r/oops.txt").exists() is False
    assert main.object("r/keep.txt").exists() is True

    side = repo.branch("side").create(c1)
    picked = side.cherry_pick(c2)
    assert picked.parents == [c1.id]
    assert picked.id == side.head.id
    assert side.object("r/oops.txt").reader(mode="r").read() == "oops"


def test_tags(repo):
    main = repo.branch("main")
    main.object("t.txt").upload("v1 data")
    commit_ref = main.commit("v1")

    tag = repo.tag("v1.0").create(main)
    assert tag.get_commit().id == commit_ref.id
    assert repo.tag("v1.0").create(main, exist_ok=True).id == "v1.0"
    with pytest.raises(ConflictException):
        repo.tag("v1.0").create(main)
    repo.tag("v0.9").create(commit_ref.id)
    assert [t.id for t in repo.tags()] == ["v0.9", "v1.0"]
    assert tag.object("t.txt").reader(mode="r").read() == "v1 data"

    main.object("t.txt").upload("v2 data")
    main.commit("v2")
    assert tag.object("t.txt").reader(mode="r").read() == "v1 data"

    tag.delete()
    assert [t.id for t in repo.tags()] == ["v0.9"]
    with pytest.raises(NotFoundException):
        repo.tag("v1.0").get_commit()


def test_reset_changes(repo):
    main = repo.branch("main")
    main.object("committed.txt").upload("c")
    main.commit("c")
    main.object("committed.txt").upload("dirty")
    main.object("dir/x").upload("x")
    main.object("dir/y").upload("y")
    main.object("z").upload("z")

    main.reset_changes(path_type="object", path="committed.txt")
    assert main.object("committed.txt").reader(mode="r").read() == "c"
    main.reset_changes(path_type="common_prefix", path="dir/")
    assert [c.path for c in main.uncommitted()] == ["z"]
    main.reset_changes()
    assert list(main.uncommitted()) == []


def test_wrapper_transaction(repo):
    main = repo.branch("main")
    main.object("tx/old.txt").upload("old")
    main.commit("before tx")
    with main.transact(commit_message="tx commit", commit_metadata={"tx": "yes"}) as tx:
        tx.object("tx/new.txt").upload("new")
        tx.object("tx/old.txt").delete()
        tx_branch = tx.id
        # the wrapper creates its ephemeral branch with hidden=true (BranchCreation.hidden):
        # left out of listBranches unless show_hidden=true
        assert tx_branch not in [b.id for b in repo.branches()]
        assert tx_branch in [b.id for b in repo.branches(show_hidden=True)]
        assert main.object("tx/new.txt").exists() is False
    assert main.object("tx/new.txt").reader(mode="r").read() == "new"
    assert main.object("tx/old.txt").exists() is False
    assert tx_branch not in [b.id for b in repo.branches()]
    messages = [c.message for c in main.log(max_amount=2)]
    assert messages[1] == "tx commit"


def test_read_committed_only_ref(repo):
    """`main@` addresses the committed state of main, without staged changes."""
    main = repo.branch("main")
    main.object("at.txt").upload("committed")
    main.commit("c")
    main.object("at.txt").upload("staged")
    assert repo.ref("main").object("at.txt").reader(mode="r").read() == "staged"
    assert repo.ref("main@").object("at.txt").reader(mode="r").read() == "committed"


def test_bytesio_upload(repo):
    payload = io.BytesIO(b"x" * 3000)
    obj = repo.branch("main").object("bio.bin")
    with obj.writer("wb") as w:
        w.write(payload.getvalue())
    assert obj.stat().size_bytes == 3000


def test_empty_object(repo):
    obj = repo.branch("main").object("empty.txt").upload(b"")
    stat = obj.stat()
    assert stat.size_bytes == 0
    assert stat.checksum == md5_hex(b"")
    with obj.reader() as r:
        assert r.read() == b""
    with obj.reader() as r:
        r.seek(0)
        assert r.read(10) == b""


@pytest.mark.parametrize(
    "path",
    [
        "with space/file name.txt",
        "plus+sign/a+b.txt",
        "percent%20literal/x%2Fy.txt",
        "ünïcödé/日本語.txt",
        "symbols/a&b=c?d#e.txt",
    ],
)
def test_special_character_paths(repo, path):
    """The wrapper form-encodes ?path= on upload (space -> '+'); the SDK percent-encodes elsewhere."""
    branch = repo.branch("main")
    data = f"content of {path}".encode()
    obj = branch.object(path).upload(data, metadata={"p": "1"})
    stat = obj.stat()
    assert stat.path == path
    assert stat.checksum == md5_hex(data)
    assert obj.exists() is True
    assert obj.reader().read() == data
    listed = [o.path for o in branch.objects(prefix=path.split("/")[0] + "/")]
    assert listed == [path]
    assert [c.path for c in branch.uncommitted()] == [path]
    obj.delete()
    assert obj.exists() is False


def test_large_object_ranged(repo):
    data = os.urandom(5 * 1024 * 1024 + 123)
    obj = repo.branch("main").object("large/blob.bin").upload(data)
    stat = obj.stat()
    assert stat.size_bytes == len(data)
    assert stat.checksum == md5_hex(data)
    with obj.reader() as r:
        r.seek(4 * 1024 * 1024)
        assert r.read(1024) == data[4 * 1024 * 1024 : 4 * 1024 * 1024 + 1024]
        r.seek(-100, os.SEEK_END)
        assert r.read() == data[-100:]
    with obj.reader() as r:
        assert r.read() == data


def test_presigned_upload_and_read_follow_the_block_store(repo):
    """pre_sign=True: on S3 the wrapper writes to a presigned URL and links it,
    and reads by following getObject's redirect to the store; a local block
    store has no presigned URLs and refuses the presigned write."""
    branch = repo.branch("main")
    data = b"moved without passing through tarn" * 1000
    if not ON_S3:
        with pytest.raises(lakefs_sdk.exceptions.ApiException) as excinfo:
            branch.object("pre.bin").upload(data, mode="wb", pre_sign=True)
        assert excinfo.value.status == 501
        with pytest.raises(NotFoundException):
            branch.object("pre.bin").stat()
        return
    obj = branch.object("pre.bin").upload(data, mode="wb", pre_sign=True, content_type="application/x-test")
    stat = obj.stat()
    assert stat.size_bytes == len(data)
    assert stat.checksum == md5_hex(data)
    assert stat.content_type == "application/x-test"
    assert stat.physical_address.startswith(repo.properties.storage_namespace + "/data/")
    with obj.reader(mode="rb", pre_sign=True) as reader:
        assert reader.read() == data
    with obj.reader(mode="rb", pre_sign=False) as reader:
        assert reader.read() == data
