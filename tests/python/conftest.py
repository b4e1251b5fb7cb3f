"""Fixtures: one Tarn server per test session, and lakeFS's own Python clients pointed at it.

The server binary is taken from $TARN_BIN (default: target/debug/tarn, relative to
the repository root). It is started in quickstart mode on a kernel-chosen loopback
port with a fresh data directory, and stopped with SIGTERM at the end.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import deque
from pathlib import Path

import lakefs
import lakefs_sdk
import pytest
from lakefs_spec import LakeFSFileSystem

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY_ID = "AKIAIOSFOLQUICKSTART"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
LISTENING = re.compile(r"Tarn listening on (http://127\.0\.0\.1:\d+)")
STARTUP_TIMEOUT = 60.0


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def unique(prefix: str) -> str:
    """A lakeFS-valid identifier (lower case, digits, dashes), unique per call."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def database_env() -> dict[str, str]:
    """The metadata backend: quickstart's SQLite, or PostgreSQL when
    TARN_TEST_DATABASE=postgres (the database TARN_TEST_POSTGRES_URL names,
    which scripts/with-postgres.sh creates empty for each run)."""
    if os.environ.get("TARN_TEST_DATABASE") != "postgres":
        return {}
    url = os.environ.get("TARN_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("TARN_TEST_DATABASE=postgres needs TARN_TEST_POSTGRES_URL (scripts/with-postgres.sh)")
    return {"TARN_DATABASE__TYPE": "postgres", "TARN_DATABASE__POSTGRES__CONNECTION_STRING": url}


ON_S3 = os.environ.get("TARN_TEST_BLOCKSTORE") == "s3"
BLOCKSTORE_TYPE = "s3" if ON_S3 else "local"


def blockstore_env() -> dict[str, str]:
    """The block store: quickstart's local directory, or S3 when
    TARN_TEST_BLOCKSTORE=s3 (the server and bucket that TARN_TEST_S3_* name,
    which scripts/with-s3.sh starts)."""
    if not ON_S3:
        return {}
    if not os.environ.get("TARN_TEST_S3_ENDPOINT"):
        pytest.fail("TARN_TEST_BLOCKSTORE=s3 needs TARN_TEST_S3_ENDPOINT (scripts/with-s3.sh)")
    return {
        "TARN_BLOCKSTORE__TYPE": "s3",
        "TARN_BLOCKSTORE__S3__ENDPOINT": os.environ["TARN_TEST_S3_ENDPOINT"],
        "TARN_BLOCKSTORE__S3__FORCE_PATH_STYLE": "true",
        "TARN_BLOCKSTORE__S3__CREDENTIALS__ACCESS_KEY_ID": os.environ["TARN_TEST_S3_ACCESS_KEY_ID"],
        "TARN_BLOCKSTORE__S3__CREDENTIALS__SECRET_ACCESS_KEY": os.environ["TARN_TEST_S3_SECRET_ACCESS_KEY"],
    }


_NAMESPACE_ROOT = f"s3://{os.environ.get('TARN_TEST_S3_BUCKET', '')}/pytest-{uuid.uuid4().hex[:8]}/" if ON_S3 else "local://"


def namespace(name: str) -> str:
    """A storage namespace for a new repository on the block store the tests run on."""
    return f"{_NAMESPACE_ROOT}{name}"


class TarnServer:
    def __init__(self, binary: Path, extra_env: dict[str, str] | None = None):
        self.binary = binary
        self.data_dir = Path(tempfile.mkdtemp(prefix="tarn-pytest-"))
        self.log: deque[str] = deque(maxlen=2000)
        self.base_url: str | None = None
        self._ready = threading.Event()
        self.proc = subprocess.Popen(
            [
                str(binary),
                "run",
                "--quickstart",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                str(self.data_dir),
                # TARN_TEST_CONFIG: a configuration file (relative to the repository)
                # under the environment the tests set, e.g. the production example.
                *(["--config", str(REPO_ROOT / os.environ["TARN_TEST_CONFIG"])] if os.environ.get("TARN_TEST_CONFIG") else []),
            ],
            cwd=str(self.data_dir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env={**os.environ, "NO_COLOR": "1", **database_env(), **blockstore_env(), **(extra_env or {})},
        )
        # Drain the output for the whole life of the process so the pipe never fills.
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line.rstrip("\n"))
            if self.base_url is None:
                m = LISTENING.search(line)
                if m:
                    self.base_url = m.group(1)
                    self._ready.set()
        self._ready.set()  # EOF: unblock the waiter, which then sees no URL

    def wait_ready(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if time.monotonic() > deadline:
                break
        if self.base_url is None:
            self.stop()
            output = "\n".join(self.log)
            raise RuntimeError(f"{self.binary} did not print its listening line:\n{output}")
        return self.base_url

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def tarn_binary() -> Path:
    binary = Path(os.environ.get("TARN_BIN", "target/debug/tarn"))
    if not binary.is_absolute():
        binary = REPO_ROOT / binary
    if not binary.is_file():
        pytest.fail(f"Tarn binary not found at {binary} (set TARN_BIN or build it first)")
    return binary


@pytest.fixture(scope="session")
def tarn_server():
    server = TarnServer(tarn_binary())
    try:
        server.wait_ready(STARTUP_TIMEOUT)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def base_url(tarn_server) -> str:
    """The server root, e.g. http://127.0.0.1:PORT (the API is under /api/v1)."""
    return tarn_server.base_url


@pytest.fixture(scope="session")
def api_client(base_url):
    """A plain generated-SDK client (lakefs_sdk.ApiClient) with basic auth."""
    configuration = lakefs_sdk.Configuration(
        host=f"{base_url}/api/v1",
        username=ACCESS_KEY_ID,
        password=SECRET_ACCESS_KEY,
    )
    with lakefs_sdk.ApiClient(configuration) as client:
        yield client


@pytest.fixture(scope="session")
def lakefs_client(base_url) -> lakefs.Client:
    """The high-level wrapper's client (it appends /api/v1 itself)."""
    return lakefs.Client(host=base_url, username=ACCESS_KEY_ID, password=SECRET_ACCESS_KEY)


@pytest.fixture(scope="session")
def lakefs_fs(base_url) -> LakeFSFileSystem:
    """The fsspec file system of lakefs-spec."""
    return LakeFSFileSystem(
        host=base_url,
        username=ACCESS_KEY_ID,
        password=SECRET_ACCESS_KEY,
        skip_instance_cache=True,
    )


@pytest.fixture
def fs(lakefs_fs) -> LakeFSFileSystem:
    """The session file system with its directory-listing cache emptied for each test."""
    lakefs_fs.invalidate_cache()
    return lakefs_fs


@pytest.fixture
def repo_name(api_client):
    """A fresh, uniquely named repository (default branch main), deleted afterwards."""
    name = unique("pyrepo")
    repos = lakefs_sdk.RepositoriesApi(api_client)
    repos.create_repository(
        lakefs_sdk.RepositoryCreation(
            name=name, storage_namespace=namespace(name), default_branch="main"
        )
    )
    yield name
    try:
        repos.delete_repository(name)
    except lakefs_sdk.ApiException:
        pass


@pytest.fixture
def repo(repo_name, lakefs_client) -> lakefs.Repository:
    """The fresh repository as a high-level wrapper object."""
    return lakefs.Repository(repo_name, client=lakefs_client)


@pytest.fixture
def apis(api_client):
    """lakefs-sdk's API classes on the session client."""

    class Apis:
        config = lakefs_sdk.ConfigApi(api_client)
        repos = lakefs_sdk.RepositoriesApi(api_client)
        branches = lakefs_sdk.BranchesApi(api_client)
        commits = lakefs_sdk.CommitsApi(api_client)
        refs = lakefs_sdk.RefsApi(api_client)
        objects = lakefs_sdk.ObjectsApi(api_client)
        tags = lakefs_sdk.TagsApi(api_client)
        internal = lakefs_sdk.InternalApi(api_client)
        metadata = lakefs_sdk.MetadataApi(api_client)
        pulls = lakefs_sdk.PullsApi(api_client)
        staging = lakefs_sdk.StagingApi(api_client)
        imports = lakefs_sdk.ImportApi(api_client)
        actions = lakefs_sdk.ActionsApi(api_client)

    return Apis
