"""The OpenAPI document Tarn serves at /openapi.json, as lakeFS does."""

from __future__ import annotations

import json
import urllib.request

import pytest
from openapi_spec_validator import validate

# Operations the lakefs wrapper and lakefs-spec call (reference §1.7), minus the
# import and federated-login ones, which Tarn answers with 501.
CLIENT_OPERATIONS = {
    "getConfig",
    "listRepositories",
    "createRepository",
    "getRepository",
    "deleteRepository",
    "getRepositoryMetadata",
    "listBranches",
    "createBranch",
    "getBranch",
    "deleteBranch",
    "resetBranch",
    "revertBranch",
    "cherryPick",
    "diffBranch",
    "commit",
    "getCommit",
    "logCommits",
    "diffRefs",
    "mergeIntoBranch",
    "listTags",
    "createTag",
    "deleteTag",
    "getObject",
    "headObject",
    "statObject",
    "listObjects",
    "uploadObject",
    "copyObject",
    "deleteObject",
    "deleteObjects",
    "getPhysicalAddress",
    "linkPhysicalAddress",
}


@pytest.fixture(scope="module")
def spec(base_url) -> dict:
    with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=30) as resp:
        assert resp.status == 200
        assert resp.headers.get_content_type() == "application/json"
        return json.loads(resp.read())


def test_openapi_document_is_valid(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises on an invalid OpenAPI 3.0 / 3.1 document


def test_openapi_covers_client_operations(spec):
    operations = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                operations[op["operationId"]] = (method.upper(), path)
    missing = sorted(CLIENT_OPERATIONS - operations.keys())
    assert not missing, f"operations called by the Python clients missing from the spec: {missing}"

    servers = [s["url"] for s in spec.get("servers", [{"url": "/"}])]
    prefix = "" if any(s.rstrip("/").endswith("/api/v1") for s in servers) else "/api/v1"
    assert operations["getConfig"] == ("GET", f"{prefix}/config")
    assert operations["uploadObject"] == ("POST", f"{prefix}/repositories/{{repository}}/branches/{{branch}}/objects")
    assert operations["getObject"] == ("GET", f"{prefix}/repositories/{{repository}}/refs/{{ref}}/objects")
    assert operations["mergeIntoBranch"] == (
        "POST",
        f"{prefix}/repositories/{{repository}}/refs/{{sourceRef}}/merge/{{destinationBranch}}",
    )
