"""Zero-copy import through the `lakefs` wrapper's ImportManager (S3 runs:
the sources are objects put straight into the test S3 bucket)."""

from __future__ import annotations

import datetime
import os
import uuid

import boto3
import lakefs
import lakefs_sdk
import pytest

from conftest import ON_S3
from test_sdk import error_status

pytestmark = pytest.mark.skipif(not ON_S3, reason="imports read S3 sources (TARN_TEST_BLOCKSTORE=s3)")


@pytest.fixture
def source():
    """A fresh prefix of the test bucket holding three objects."""
    s3 = boto3.client(
        "s3",
        endpoint_url=os.environ["TARN_TEST_S3_ENDPOINT"],
        aws_access_key_id=os.environ["TARN_TEST_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["TARN_TEST_S3_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    bucket = os.environ["TARN_TEST_S3_BUCKET"]
    prefix = f"import-src-{uuid.uuid4().hex[:8]}/"
    objects = {"a.csv": b"a\n1\n", "sub/b.csv": b"b\n2\n", "c.json": b"{}"}
    for key, body in objects.items():
        s3.put_object(Bucket=bucket, Key=prefix + key, Body=body)
    return f"s3://{bucket}/{prefix}", objects


def test_import_manager_imports_a_prefix_and_an_object(repo, source, apis):
    uri, objects = source
    branch = repo.branch("main")
    branch.object("imported/stale.txt").upload(data=b"replaced by the import")
    branch.commit(message="before")
    status = (
        branch.import_data(commit_message="import", metadata={"by": "pytest"})
        .prefix(uri, destination="imported/")
        .object(uri + "a.csv", destination="single/a.csv")
        .run(poll_interval=datetime.timedelta(milliseconds=100))
    )
    assert status.completed
    assert status.ingested_objects == len(objects) + 1
    assert status.commit.message == "import"
    listed = sorted(o.path for o in branch.objects(prefix="imported/"))
    assert listed == sorted(f"imported/{k}" for k in objects)
    for key, body in objects.items():
        assert branch.object(f"imported/{key}").reader(mode="rb").read() == body
    assert branch.object("single/a.csv").reader(mode="rb").read() == objects["a.csv"]
    # Zero copy: the entry points at the source.
    stat = branch.object("imported/sub/b.csv").stat()
    assert stat.physical_address == uri + "sub/b.csv"


def test_import_refuses_bad_requests(repo, source, apis):
    uri, _ = source
    bad = lakefs_sdk.ImportCreation(
        paths=[
            lakefs_sdk.ImportLocation(type="common_prefix", path=uri, destination="x/"),
            lakefs_sdk.ImportLocation(type="common_prefix", path=uri, destination="x/y/"),
        ],
        commit=lakefs_sdk.CommitCreation(message="overlap"),
    )
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.imports.import_start(repo.id, "main", bad)
    assert error_status(excinfo) == 400
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.imports.import_status(repo.id, "main", "no-such-import")
    assert error_status(excinfo) == 404
