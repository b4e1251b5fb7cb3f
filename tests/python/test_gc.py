"""Garbage collection through lakeFS's clients (issue #18): retention rules
under both of lakeFS's paths, as lakefs-sdk calls them."""

from __future__ import annotations

import lakefs_sdk
import pytest

from test_sdk import error_json, error_status


def rules(default: int, **branches: int) -> lakefs_sdk.GarbageCollectionRules:
    return lakefs_sdk.GarbageCollectionRules(
        default_retention_days=default,
        branches=[lakefs_sdk.GarbageCollectionRule(branch_id=b, retention_days=d) for b, d in branches.items()],
    )


def as_dict(r: lakefs_sdk.GarbageCollectionRules) -> tuple[int, dict[str, int]]:
    return r.default_retention_days, {b.branch_id: b.retention_days for b in r.branches}


def test_gc_rules_set_get_delete(apis, repo_name):
    # None set: 404, as lakeFS.
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.repos.get_gc_rules(repo_name)
    assert error_status(excinfo) == 404
    assert error_json(excinfo)["message"].endswith("not found")
    apis.repos.set_gc_rules(repo_name, rules(14, main=60, dev=3))
    assert as_dict(apis.repos.get_gc_rules(repo_name)) == (14, {"main": 60, "dev": 3})
    # The older internal paths see and change the same rules.
    assert as_dict(apis.internal.internal_get_garbage_collection_rules(repo_name)) == (14, {"main": 60, "dev": 3})
    apis.internal.set_garbage_collection_rules_preflight(repo_name)
    apis.internal.internal_set_garbage_collection_rules(repo_name, rules(7))
    assert as_dict(apis.repos.get_gc_rules(repo_name)) == (7, {})
    apis.internal.internal_delete_garbage_collection_rules(repo_name)
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.repos.get_gc_rules(repo_name)
    assert error_status(excinfo) == 404
    apis.repos.delete_gc_rules(repo_name)  # nothing set: still fine
    # Bad rules are refused and change nothing.
    apis.repos.set_gc_rules(repo_name, rules(5))
    for bad in (rules(-1), rules(1, **{"bad branch": 2}), rules(1, main=100_000)):
        with pytest.raises(lakefs_sdk.ApiException) as excinfo:
            apis.repos.set_gc_rules(repo_name, bad)
        assert error_status(excinfo) == 400
    assert as_dict(apis.repos.get_gc_rules(repo_name)) == (5, {})
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.repos.get_gc_rules("no-such-repo-gc")
    assert error_status(excinfo) == 404


# ---------------------------------------------------------------------------
# Collection, seen through lakeFS's clients and boto3: a server of its own
# with no grace period, so that what a run finds garbage goes at once.

import time
import types

import boto3
import botocore
import requests
from botocore.config import Config

from conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, TarnServer, namespace, tarn_binary, unique
from test_sdk import upload


@pytest.fixture(scope="module")
def gc_server():
    server = TarnServer(
        tarn_binary(),
        {"TARN_GC__GRACE_PERIOD_SECS": "0", "TARN_JOBS__POLL_INTERVAL_MS": "100"},
    )
    try:
        server.wait_ready(60)
        yield server.base_url
    finally:
        server.stop()


def run_gc(base_url: str, repo: str, **body) -> dict:
    auth = (ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    started = requests.post(f"{base_url}/api/v1/repositories/{repo}/gc/runs", json=body, auth=auth, timeout=30)
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    for _ in range(300):
        run = requests.get(f"{base_url}/api/v1/repositories/{repo}/gc/runs/{run_id}", auth=auth, timeout=30).json()
        if run["state"] not in ("pending", "running"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"gc run {run_id} did not end")


def test_collected_data_reads_as_gone_in_every_client(gc_server):
    configuration = lakefs_sdk.Configuration(host=f"{gc_server}/api/v1", username=ACCESS_KEY_ID, password=SECRET_ACCESS_KEY)
    name = unique("pygc")
    with lakefs_sdk.ApiClient(configuration) as client:
        repos = lakefs_sdk.RepositoriesApi(client)
        objects = lakefs_sdk.ObjectsApi(client)
        commits = lakefs_sdk.CommitsApi(client)
        repos.create_repository(lakefs_sdk.RepositoryCreation(name=name, storage_namespace=namespace(name), default_branch="main"))
        sdk = types.SimpleNamespace(objects=objects)
        upload(sdk, name, "main", "table.csv", b"a,b\n1,2\n")
        old = commits.commit(name, "main", lakefs_sdk.CommitCreation(message="v1"))
        upload(sdk, name, "main", "table.csv", b"a,b\n3,4\n")
        commits.commit(name, "main", lakefs_sdk.CommitCreation(message="v2"))
        # A dry run first: it reports the expired version and deletes nothing.
        repos.set_gc_rules(name, rules(0))
        dry = run_gc(gc_server, name, mode="dry_run")
        assert dry["state"] == "succeeded", dry
        assert dry["report"]["garbage"]["objects"] == 1
        assert bytes(objects.get_object(name, old.id, "table.csv")) == b"a,b\n1,2\n"
        run = run_gc(gc_server, name)
        assert run["state"] == "succeeded", run
        assert run["report"]["deleted"] == {"objects": 1, "bytes": 8}
        # lakefs-sdk: 410 with a message for the expired commit; the head reads.
        with pytest.raises(lakefs_sdk.ApiException) as excinfo:
            objects.get_object(name, old.id, "table.csv")
        assert excinfo.value.status == 410
        assert "removed from the object store" in str(excinfo.value.body)
        assert bytes(objects.get_object(name, "main", "table.csv")) == b"a,b\n3,4\n"
    # boto3 through the gateway: an S3 error, never a 500.
    s3 = boto3.client(
        "s3",
        endpoint_url=gc_server,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=name, Key=f"{old.id}/table.csv")
    assert e.value.response["Error"]["Code"] == "NoSuchVersion"
    assert s3.get_object(Bucket=name, Key="main/table.csv")["Body"].read() == b"a,b\n3,4\n"
