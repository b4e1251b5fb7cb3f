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
