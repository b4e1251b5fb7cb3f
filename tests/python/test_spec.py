"""lakefs-spec (fsspec for lakeFS) against Tarn."""

from __future__ import annotations

import os

import lakefs
import pytest

from conftest import md5_hex


def write_local(path, data: bytes):
    path.write_bytes(data)
    return str(path)


def test_put_get_info_exists(fs, repo_name, tmp_path):
    data = os.urandom(5000)
    local = write_local(tmp_path / "in.bin", data)
    rpath = f"lakefs://{repo_name}/main/dir/data.bin"

    fs.put_file(local, rpath)
    info = fs.info(rpath)
    assert info["type"] == "file"
    assert info["name"] == f"{repo_name}/main/dir/data.bin"
    assert info["size"] == len(data)
    assert info["checksum"] == md5_hex(data)
    assert fs.checksum(rpath) == md5_hex(data)
    assert info["mtime"] > 0

    assert fs.exists(rpath) is True
    assert fs.exists(f"lakefs://{repo_name}/main/dir") is True  # a "directory" (common prefix)
    assert fs.exists(f"lakefs://{repo_name}/main/dir/missing.bin") is False
    assert fs.exists(f"lakefs://{repo_name}/main/") is True  # repo root: getCommit on the branch
    assert fs.exists(f"lakefs://{repo_name}/no-such-branch/") is False

    out = tmp_path / "out.bin"
    fs.get_file(rpath, str(out))
    assert out.read_bytes() == data

    # precheck: same checksum locally -> no upload; the object is untouched
    fs.put_file(local, rpath)
    assert fs.info(rpath)["mtime"] == info["mtime"]
    assert list(lakefs.Repository(repo_name, client=fs.client).branch("main").uncommitted())[0].path == (
        "dir/data.bin"
    )

    dir_info = fs.info(f"lakefs://{repo_name}/main/dir/")
    assert dir_info["type"] == "directory"
    assert dir_info["size"] == len(data)
    with pytest.raises(FileNotFoundError):
        fs.info(f"lakefs://{repo_name}/main/nowhere/")


def test_put_file_create_mode(fs, repo_name, tmp_path):
    local = write_local(tmp_path / "a.txt", b"A")
    rpath = f"{repo_name}/main/create.txt"
    fs.put_file(local, rpath, mode="create")
    with pytest.raises(FileExistsError):
        fs.put_file(local, rpath, mode="create")


def test_ls(fs, repo_name):
    for name in ["ls/a.txt", "ls/b.txt", "ls/sub/c.txt", "ls/sub/d.txt", "top.txt"]:
        fs.pipe_file(f"{repo_name}/main/{name}", name.encode())

    entries = fs.ls(f"{repo_name}/main/ls/", refresh=True)
    assert [(e["name"], e["type"]) for e in entries] == [
        (f"{repo_name}/main/ls/a.txt", "file"),
        (f"{repo_name}/main/ls/b.txt", "file"),
        (f"{repo_name}/main/ls/sub/", "directory"),
    ]
    files = {e["name"]: e for e in entries if e["type"] == "file"}
    assert files[f"{repo_name}/main/ls/a.txt"]["size"] == len("ls/a.txt")
    assert files[f"{repo_name}/main/ls/a.txt"]["checksum"] == md5_hex(b"ls/a.txt")

    # without the trailing slash, lakefs-spec retries with it
    names = fs.ls(f"{repo_name}/main/ls", detail=False, refresh=True)
    assert names == [
        f"{repo_name}/main/ls/a.txt",
        f"{repo_name}/main/ls/b.txt",
        f"{repo_name}/main/ls/sub/",
    ]

    root = fs.ls(f"{repo_name}/main/", detail=False, refresh=True)
    assert root == [f"{repo_name}/main/ls/", f"{repo_name}/main/top.txt"]

    recursive = fs.find(f"{repo_name}/main/ls/")
    assert recursive == [
        f"{repo_name}/main/ls/a.txt",
        f"{repo_name}/main/ls/b.txt",
        f"{repo_name}/main/ls/sub/c.txt",
        f"{repo_name}/main/ls/sub/d.txt",
    ]


def test_open_write_and_read(fs, repo_name):
    rpath = f"{repo_name}/main/open/text.txt"
    with fs.open(rpath, "w", metadata={"origin": "fsspec"}, content_type="text/plain") as f:
        f.write("hello\n")
        f.write("world\n")
    info = fs.info(rpath)
    assert info["size"] == 12
    assert info["checksum"] == md5_hex(b"hello\nworld\n")
    assert info["content-type"] == "text/plain"
    assert info["metadata"] == {"origin": "fsspec"}

    with fs.open(rpath, "r") as f:
        assert f.read() == "hello\nworld\n"
    with fs.open(rpath, "rb") as f:
        f.seek(6)
        assert f.read(5) == b"world"
        assert f.tell() == 11
    assert fs.cat_file(rpath) == b"hello\nworld\n"
    assert fs.cat_file(rpath, start=2, end=8) == b"llo\nwo"
    assert fs.tail(rpath, size=6) == b"world\n"

    with pytest.raises(FileExistsError):
        fs.open(rpath, "xb")
    with pytest.raises(FileNotFoundError):
        fs.open(f"{repo_name}/main/open/absent.txt", "rb")

    with fs.open(f"{repo_name}/main/open/bin.dat", "wb") as f:
        f.write(b"\x00" * 100)
    assert fs.info(f"{repo_name}/main/open/bin.dat")["size"] == 100


def test_write_creates_branch_implicitly(fs, repo_name):
    """create_branch_ok (default True): writing to a missing branch creates it from main."""
    fs.pipe_file(f"{repo_name}/main/base.txt", b"base")
    lakefs.Repository(repo_name, client=fs.client).branch("main").commit("base")
    fs.pipe_file(f"{repo_name}/newbranch/new.txt", b"new")
    branch = lakefs.Repository(repo_name, client=fs.client).branch("newbranch")
    assert branch.head.id == lakefs.Repository(repo_name, client=fs.client).branch("main").head.id
    assert fs.cat_file(f"{repo_name}/newbranch/base.txt") == b"base"
    assert fs.cat_file(f"{repo_name}/newbranch/new.txt") == b"new"


def test_rm_and_cp(fs, repo_name):
    for name in ["rm/a", "rm/b", "rm/sub/c", "keep/x"]:
        fs.pipe_file(f"{repo_name}/main/{name}", name.encode())

    fs.cp_file(f"{repo_name}/main/keep/x", f"{repo_name}/main/keep/x-copy")
    assert fs.cat_file(f"{repo_name}/main/keep/x-copy") == b"keep/x"
    assert fs.info(f"{repo_name}/main/keep/x-copy")["checksum"] == md5_hex(b"keep/x")

    fs.rm(f"{repo_name}/main/rm/a")
    assert fs.exists(f"{repo_name}/main/rm/a") is False
    assert fs.exists(f"{repo_name}/main/rm/b") is True

    fs.rm(f"{repo_name}/main/rm/", recursive=True)
    assert fs.exists(f"{repo_name}/main/rm/b") is False
    assert fs.exists(f"{repo_name}/main/rm/sub/c") is False
    assert fs.exists(f"{repo_name}/main/rm") is False
    assert fs.find(f"{repo_name}/main/") == [
        f"{repo_name}/main/keep/x",
        f"{repo_name}/main/keep/x-copy",
    ]


def test_touch(fs, repo_name):
    """lakefs-spec gates touch() on the server version reported by getConfig (>= 1.3.1)."""
    fs.touch(f"{repo_name}/main/empty.txt")
    info = fs.info(f"{repo_name}/main/empty.txt")
    assert info["size"] == 0
    assert info["checksum"] == md5_hex(b"")


def test_transaction(fs, repo_name, tmp_path):
    repo = lakefs.Repository(repo_name, client=fs.client)
    fs.pipe_file(f"{repo_name}/main/tx/existing.txt", b"existing")
    repo.branch("main").commit("seed")
    before = repo.branch("main").head.id

    local = write_local(tmp_path / "tx.csv", b"a,b\n1,2\n")
    with fs.transaction(repo_name, "main", merge_kwargs={"message": "tx merge"}) as tx:
        ephemeral = tx.branch.id
        assert ephemeral.startswith("transaction-")
        assert ephemeral in [b.id for b in repo.branches()]
        fs.put_file(local, f"{repo_name}/{ephemeral}/tx/data.csv")
        fs.rm(f"{repo_name}/{ephemeral}/tx/existing.txt")
        commit = tx.commit(message="tx commit", metadata={"by": "lakefs-spec"})
        assert commit.get_commit().message == "tx commit"
        assert tx.rev_parse(ephemeral).id == commit.id
        tag = tx.tag(commit, name=f"tx-tag-{ephemeral}")
        assert tag.get_commit().id == commit.id

    # merged into main, ephemeral branch deleted
    assert ephemeral not in [b.id for b in repo.branches()]
    assert fs.cat_file(f"{repo_name}/main/tx/data.csv") == b"a,b\n1,2\n"
    assert fs.exists(f"{repo_name}/main/tx/existing.txt") is False
    head = repo.branch("main").get_commit()
    assert head.message == "tx merge"
    assert head.parents == [before, commit.id]
    # main was not changed until the transaction ended
    assert [c.message for c in repo.branch("main").log(max_amount=3)] == [
        "tx merge",
        "tx commit",
        "seed",
    ]


def test_transaction_without_changes_does_not_merge(fs, repo_name):
    repo = lakefs.Repository(repo_name, client=fs.client)
    before = repo.branch("main").head.id
    with fs.transaction(repo_name, "main") as tx:
        ephemeral = tx.branch.id
    assert repo.branch("main").head.id == before
    assert ephemeral not in [b.id for b in repo.branches()]


def test_transaction_revert(fs, repo_name):
    repo = lakefs.Repository(repo_name, client=fs.client)
    fs.pipe_file(f"{repo_name}/main/rv/bad.txt", b"bad")
    bad = repo.branch("main").commit("bad commit")
    with fs.transaction(repo_name, "main") as tx:
        reverted = tx.revert("main", bad, parent_number=0)
    assert reverted.parents == [bad.id]
    assert fs.exists(f"{repo_name}/main/rv/bad.txt") is False
