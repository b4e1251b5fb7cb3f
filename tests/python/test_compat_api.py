"""REST behaviours lakeFS's clients rely on (issue #17), each through a real
client: lakefs-sdk for the wire, the lakefs wrapper and lakefs-spec where they
build on it. Each test would fail against a server that answered as Tarn did
before: 501s, null fields, other wordings."""

from __future__ import annotations

import json
import time

import lakefs
import lakefs_sdk
import pytest
import requests

from conftest import ACCESS_KEY_ID, BLOCKSTORE_TYPE, SECRET_ACCESS_KEY, namespace, unique
from test_gateway_boto3 import error_code, s3_client
from test_sdk import error_json, error_status, read, upload


def commit(apis, repo, branch, message="c"):
    return apis.commits.commit(repo, branch, lakefs_sdk.CommitCreation(message=message))


# --- /config and /setup_lakefs ------------------------------------------------------------


def test_config_default_namespace_prefix_and_lakefs_184_fields(apis, lakefs_client, base_url):
    config = apis.config.get_config()
    want = "local://" if BLOCKSTORE_TYPE == "local" else ""
    assert config.storage_config.default_namespace_prefix == want
    # As lakeFS with a single block store, the list is for several.
    assert config.storage_config_list == []
    # The lakefs wrapper reads it through its own server configuration.
    assert lakefs_client.storage_config.default_namespace_prefix == want
    # Older clients (lakeFS 1.84) require login_config's URLs and cookies.
    state = requests.get(f"{base_url}/api/v1/setup_lakefs", timeout=10).json()
    login = state["login_config"]
    for field in ("RBAC", "login_url", "login_cookie_names", "logout_url", "login_failed_message"):
        assert field in login, field
    assert isinstance(login["login_cookie_names"], list)
    gc = apis.internal.get_garbage_collection_config()
    assert gc.grace_period == 3600  # gc.grace_period_secs


def test_statistics_and_usage_report_with_telemetry_off(apis):
    apis.internal.post_stats_events(
        lakefs_sdk.StatsEventsList(events=[lakefs_sdk.StatsEvent(var_class="ui", name="opened", count=3)])
    )
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.internal.post_stats_events(
            lakefs_sdk.StatsEventsList(events=[lakefs_sdk.StatsEvent(var_class="", name="x", count=1)])
        )
    assert error_status(excinfo) == 400
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.internal.get_usage_report_summary()
    assert error_status(excinfo) == 404
    assert error_json(excinfo)["message"] == "installation not found"


# --- createRepository ---------------------------------------------------------------------------


def test_create_repository_checks_existence_first_and_makes_bare_repositories(apis, repo_name):
    # An existing name is a conflict even with options Tarn refuses.
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.repos.create_repository(
            lakefs_sdk.RepositoryCreation(name=repo_name, storage_namespace="local://conflicting", storage_id="elsewhere")
        )
    assert error_status(excinfo) == 409
    name = unique("storageid")
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.repos.create_repository(
            lakefs_sdk.RepositoryCreation(name=name, storage_namespace=namespace(name), storage_id="elsewhere")
        )
    assert error_status(excinfo) == 400
    assert "storage id" in error_json(excinfo)["message"]
    bare = unique("bare")
    created = apis.repos.create_repository(
        lakefs_sdk.RepositoryCreation(name=bare, storage_namespace=namespace(bare), default_branch="main"), bare=True
    )
    assert created.id == bare
    assert apis.branches.list_branches(bare).results == []
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.branches.get_branch(bare, "main")
    assert error_status(excinfo) == 404
    apis.repos.delete_repository(bare)


# --- error wordings ----------------------------------------------------------------------------


def test_lakefs_error_wordings(apis, repo_name, base_url):
    upload(apis, repo_name, "main", "a.txt", b"a")
    commit(apis, repo_name, "main")
    apis.internal.internal_create_branch_protection_rule(
        repo_name, lakefs_sdk.BranchProtectionRule(pattern="main")
    )
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        upload(apis, repo_name, "main", "b.txt", b"b")
    assert (error_status(excinfo), error_json(excinfo)["message"]) == (403, "cannot write to protected branch")
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.commits.commit(repo_name, "main", lakefs_sdk.CommitCreation(message="m", allow_empty=True))
    assert (error_status(excinfo), error_json(excinfo)["message"]) == (403, "cannot commit to protected branch")
    s3 = s3_client(base_url)
    with pytest.raises(Exception) as excinfo:
        s3.put_object(Bucket=repo_name, Key="main/c.txt", Body=b"c")
    assert error_code(excinfo) == "ErrWriteToProtectedBranch"
    assert excinfo.value.response["Error"]["Message"] == "Attempted to write to a protected branch"
    for call in (
        lambda: apis.branches.get_branch(repo_name, "no-such-branch"),
        lambda: apis.objects.stat_object(repo_name, "main", "no/such/object"),
        lambda: apis.repos.get_repository(unique("missing")),
        lambda: apis.commits.get_commit(repo_name, "f" * 64),
    ):
        with pytest.raises(lakefs_sdk.ApiException) as excinfo:
            call()
        assert error_status(excinfo) == 404
        assert error_json(excinfo)["message"].endswith("not found"), error_json(excinfo)
    # Revert messages name the ref as given.
    apis.internal.internal_delete_branch_protection_rule(
        repo_name, lakefs_sdk.InternalDeleteBranchProtectionRuleRequest(pattern="main")
    )
    apis.branches.revert_branch(repo_name, "main", lakefs_sdk.RevertCreation(ref="main", parent_number=0))
    head = apis.refs.log_commits(repo_name, "main", amount=1).results[0]
    assert head.message == "Revert main"


# --- log, diff, merge ----------------------------------------------------------------------------


def test_log_limit_diff_sizes_and_three_dot_conflicts(apis, repo_name):
    for i in range(3):
        upload(apis, repo_name, "main", f"f{i}.txt", b"x" * (i + 1))
        commit(apis, repo_name, "main", f"c{i}")
    log = apis.refs.log_commits(repo_name, "main", amount=2, limit=True)
    assert len(log.results) == 2
    assert log.pagination.has_more is False
    assert log.pagination.next_offset == ""
    unlimited = apis.refs.log_commits(repo_name, "main", amount=2)
    assert unlimited.pagination.has_more is True
    # An uncommitted removal reports size 0, as lakeFS.
    apis.objects.delete_object(repo_name, "main", "f2.txt")
    diff = apis.branches.diff_branch(repo_name, "main").results
    assert [(d.path, d.type, d.size_bytes) for d in diff] == [("f2.txt", "removed", 0)]
    apis.branches.reset_branch(repo_name, "main", lakefs_sdk.ResetCreation(type="reset"))
    # Three-dot diff: paths both sides changed since the merge base conflict.
    apis.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    upload(apis, repo_name, "main", "f0.txt", b"main's")
    upload(apis, repo_name, "main", "only-main.txt", b"m")
    commit(apis, repo_name, "main")
    upload(apis, repo_name, "dev", "f0.txt", b"dev's")
    upload(apis, repo_name, "dev", "only-dev.txt", b"d")
    commit(apis, repo_name, "dev")
    three = apis.refs.diff_refs(repo_name, "main", "dev", type="three_dot").results
    assert sorted((d.path, d.type) for d in three) == [("f0.txt", "conflict"), ("only-dev.txt", "added")]
    two = apis.refs.diff_refs(repo_name, "main", "dev", type="two_dot").results
    assert sorted((d.path, d.type) for d in two) == [
        ("f0.txt", "changed"),
        ("only-dev.txt", "added"),
        ("only-main.txt", "removed"),
    ]


def test_log_filtered_by_objects_and_prefixes(apis, repo_name):
    """logCommits with `objects` and `prefixes` (lakeFS's query parameters)
    returns exactly the commits that changed them, across pages, merges and
    deletions; each commit's summary of its changes answers for most."""
    made = {}
    for i in range(30):
        upload(apis, repo_name, "main", f"data/part-{i % 4}.csv", str(i).encode())
        if i % 10 == 5:
            upload(apis, repo_name, "main", f"tables/t{i}/x.parquet", b"t")
        made[i] = commit(apis, repo_name, "main", f"c{i}").id
    apis.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    upload(apis, repo_name, "dev", "tables/from-dev.parquet", b"d")
    on_dev = commit(apis, repo_name, "dev", "on dev").id
    merge = apis.refs.merge_into_branch(repo_name, "dev", "main").reference
    apis.objects.delete_object(repo_name, "main", "tables/t15/x.parquet")
    deleted = commit(apis, repo_name, "main", "delete t15").id

    def log(**filters):
        ids, after = [], ""
        while True:
            page = apis.refs.log_commits(repo_name, "main", amount=2, after=after, **filters)
            ids += [c.id for c in page.results]
            if not page.pagination.has_more:
                return ids
            after = page.pagination.next_offset

    assert log(prefixes=["tables/"]) == [deleted, merge, on_dev, made[25], made[15], made[5]]
    assert log(prefixes=["tables/t1"]) == [deleted, made[15]]
    assert log(objects=["tables/t25/x.parquet"]) == [made[25]]
    assert log(objects=["data/part-3.csv"], prefixes=["tables/t5/"]) == [
        made[i] for i in (27, 23, 19, 15, 11, 7, 5, 3)
    ]
    assert log(prefixes=["nothing/"]) == []


def test_merging_an_emptied_branch_into_the_first_commit(apis, repo_name):
    apis.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    first = apis.branches.get_branch(repo_name, "main").commit_id
    upload(apis, repo_name, "dev", "tmp.txt", b"t")
    commit(apis, repo_name, "dev")
    apis.objects.delete_object(repo_name, "dev", "tmp.txt")
    commit(apis, repo_name, "dev")
    merged = apis.refs.merge_into_branch(repo_name, "dev", "main")
    head = apis.refs.log_commits(repo_name, "main", amount=1).results[0]
    assert head.id == merged.reference and head.id != first
    assert len(head.parents) == 2
    # The same with the lakefs wrapper: nothing more to merge now.
    repo = lakefs.Repository(repo_name, client=lakefs.Client(host=apis.config.api_client.configuration.host.removesuffix("/api/v1"), username=ACCESS_KEY_ID, password=SECRET_ACCESS_KEY))
    with pytest.raises(lakefs.exceptions.BadRequestException):
        repo.branch("dev").merge_into(repo.branch("main"))


# --- repository metadata and branch protection -----------------------------------------------


def test_repository_metadata_and_internal_branch_protection(apis, repo_name):
    apis.internal.set_repository_metadata(
        repo_name, lakefs_sdk.RepositoryMetadataSet(metadata={"team": "data", "tier": "gold"})
    )
    apis.internal.set_repository_metadata(repo_name, lakefs_sdk.RepositoryMetadataSet(metadata={"tier": "silver"}))
    assert apis.repos.get_repository_metadata(repo_name) == {"team": "data", "tier": "silver"}
    apis.internal.delete_repository_metadata(repo_name, lakefs_sdk.RepositoryMetadataKeys(keys=["team", "nope"]))
    assert apis.repos.get_repository_metadata(repo_name) == {"tier": "silver"}
    apis.internal.create_branch_protection_rule_preflight(repo_name)
    apis.internal.internal_create_branch_protection_rule(repo_name, lakefs_sdk.BranchProtectionRule(pattern="rel-*"))
    apis.internal.internal_create_branch_protection_rule(repo_name, lakefs_sdk.BranchProtectionRule(pattern="rel-*"))
    rules = apis.internal.internal_get_branch_protection_rules(repo_name)
    assert [r.pattern for r in rules] == ["rel-*"]
    assert [r.pattern for r in apis.repos.get_branch_protection_rules(repo_name)] == ["rel-*"]
    apis.internal.internal_delete_branch_protection_rule(
        repo_name, lakefs_sdk.InternalDeleteBranchProtectionRuleRequest(pattern="rel-*")
    )
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.internal.internal_delete_branch_protection_rule(
            repo_name, lakefs_sdk.InternalDeleteBranchProtectionRuleRequest(pattern="rel-*")
        )
    assert error_status(excinfo) == 404


# --- staging an existing object, commit records, tree files ---------------------------------


def test_stage_object_and_preflight(apis, repo_name):
    apis.internal.upload_object_preflight(repo_name, "main", "linked.txt")
    # Data written through Tarn elsewhere in the namespace, staged at a second path.
    written = upload(apis, repo_name, "main", "original.txt", b"shared bytes")
    staged = apis.internal.stage_object(
        repo_name,
        "main",
        "linked.txt",
        lakefs_sdk.ObjectStageCreation(
            physical_address=written.physical_address,
            checksum=written.checksum,
            size_bytes=written.size_bytes,
            mtime=1_700_000_000,
            metadata={"origin": "staged"},
        ),
    )
    assert (staged.path, staged.size_bytes, staged.mtime) == ("linked.txt", 12, 1_700_000_000)
    assert read(apis, repo_name, "main", "linked.txt") == b"shared bytes"
    stat = apis.objects.stat_object(repo_name, "main", "linked.txt", user_metadata=True)
    assert stat.metadata == {"origin": "staged"}
    for bad in ("gopher://x/y", f"{apis.repos.get_repository(repo_name).storage_namespace}/_tarn/refs/x"):
        with pytest.raises(lakefs_sdk.ApiException) as excinfo:
            apis.internal.stage_object(
                repo_name,
                "main",
                "bad.txt",
                lakefs_sdk.ObjectStageCreation(physical_address=bad, checksum="c", size_bytes=1),
            )
        assert error_status(excinfo) == 400, bad


def test_stage_object_needs_import_rights_for_addresses_not_given_out(api_client, apis, repo_name, base_url):
    """A developer may stage what it wrote to an address Tarn gave out for that
    path, but not another object's data (which it could then read)."""
    auth = lakefs_sdk.AuthApi(api_client)
    dev = unique("dev")
    auth.create_user(lakefs_sdk.UserCreation(id=dev))
    auth.add_group_membership("Developers", dev)
    creds = auth.create_credentials(dev)
    conf = lakefs_sdk.Configuration(
        host=f"{base_url}/api/v1", username=creds.access_key_id, password=creds.secret_access_key
    )
    with lakefs_sdk.ApiClient(conf) as client:
        internal = lakefs_sdk.InternalApi(client)
        staging = lakefs_sdk.StagingApi(client)
        secret = upload(apis, repo_name, "main", "secret.txt", b"not for dev")
        with pytest.raises(lakefs_sdk.ApiException) as excinfo:
            internal.stage_object(
                repo_name,
                "main",
                "mine.txt",
                lakefs_sdk.ObjectStageCreation(
                    physical_address=secret.physical_address, checksum=secret.checksum, size_bytes=secret.size_bytes
                ),
            )
        assert error_status(excinfo) == 403
        given = staging.get_physical_address(repo_name, "main", "mine.txt")
        written = upload(apis, repo_name, "main", "scratch.txt", b"mine")  # data to point at, written by admin
        with pytest.raises(lakefs_sdk.ApiException) as excinfo:
            internal.stage_object(
                repo_name,
                "main",
                "mine.txt",
                lakefs_sdk.ObjectStageCreation(
                    physical_address=written.physical_address, checksum=written.checksum, size_bytes=4
                ),
            )
        assert error_status(excinfo) == 403
        # The address given out for this path is the developer's to stage.
        staged = internal.stage_object(
            repo_name,
            "main",
            "mine.txt",
            lakefs_sdk.ObjectStageCreation(physical_address=given.physical_address, checksum="0" * 32, size_bytes=0),
        )
        assert staged.path == "mine.txt"


def test_commit_records_tree_files_and_refs_dump_restore(apis, repo_name):
    upload(apis, repo_name, "main", "data/a.csv", b"a,b\n1,2\n")
    c = commit(apis, repo_name, "main", "first data")
    apis.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="feature", source="main"))
    upload(apis, repo_name, "feature", "data/b.csv", b"b\n")
    commit(apis, repo_name, "feature", "feature data")
    apis.tags.create_tag(repo_name, lakefs_sdk.TagCreation(id="v1", ref="main"))
    # Tree files: where they are and their bytes.
    loc = apis.metadata.get_meta_range(repo_name, c.meta_range_id)
    assert c.meta_range_id in loc.location
    body = apis.internal.get_metadata_object(repo_name, c.meta_range_id, "meta_range")
    assert len(body) > 0
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.internal.get_metadata_object(repo_name, "ab" * 32, "range")
    assert error_status(excinfo) == 410
    # Dump, then restore into a bare repository over the same namespace.
    dump = apis.internal.dump_refs(repo_name)
    copy = unique("restored")
    source = apis.repos.get_repository(repo_name)
    apis.repos.create_repository(
        lakefs_sdk.RepositoryCreation(name=copy, storage_namespace=source.storage_namespace), bare=True
    )
    try:
        apis.internal.restore_refs(
            copy,
            lakefs_sdk.RefsRestore(
                commits_meta_range_id=dump.commits_meta_range_id,
                tags_meta_range_id=dump.tags_meta_range_id,
                branches_meta_range_id=dump.branches_meta_range_id,
            ),
        )
        assert sorted(b.id for b in apis.branches.list_branches(copy).results) == ["feature", "main"]
        assert [t.id for t in apis.tags.list_tags(copy).results] == ["v1"]
        assert read(apis, copy, "feature", "data/b.csv") == b"b\n"
        assert read(apis, copy, "v1", "data/a.csv") == b"a,b\n1,2\n"
        orig = [x.id for x in apis.refs.log_commits(repo_name, "feature").results]
        assert [x.id for x in apis.refs.log_commits(copy, "feature").results] == orig
        # Only into a bare repository.
        with pytest.raises(lakefs_sdk.ApiException) as excinfo:
            apis.internal.restore_refs(
                copy,
                lakefs_sdk.RefsRestore(
                    commits_meta_range_id=dump.commits_meta_range_id,
                    tags_meta_range_id=dump.tags_meta_range_id,
                    branches_meta_range_id=dump.branches_meta_range_id,
                ),
            )
        assert error_status(excinfo) == 400
        assert "bare" in error_json(excinfo)["message"]
    finally:
        apis.repos.delete_repository(copy)
    # A commit record: the same record again is a conflict; a tampered one is refused.
    bare = unique("records")
    apis.repos.create_repository(
        lakefs_sdk.RepositoryCreation(name=bare, storage_namespace=namespace(bare)), bare=True
    )
    try:
        record = lakefs_sdk.CommitRecordCreation(
            commit_id=c.id,
            version=c.version or 1,
            committer=c.committer,
            message=c.message,
            metarange_id=c.meta_range_id,
            creation_date=c.creation_date,
            parents=c.parents,
            metadata=c.metadata or {},
            generation=c.generation,
        )
        apis.internal.create_commit_record(bare, record)
        assert apis.commits.get_commit(bare, c.id).message == "first data"
        with pytest.raises(lakefs_sdk.ApiException) as excinfo:
            apis.internal.create_commit_record(bare, record)
        assert error_status(excinfo) == 409
        record.message = "tampered"
        with pytest.raises(lakefs_sdk.ApiException) as excinfo:
            apis.internal.create_commit_record(bare, record)
        assert error_status(excinfo) == 400
    finally:
        apis.repos.delete_repository(bare)


# --- pull requests -------------------------------------------------------------------------------


def test_pull_requests(apis, repo_name):
    apis.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="feature", source="main"))
    upload(apis, repo_name, "feature", "new.txt", b"n")
    commit(apis, repo_name, "feature")
    first = apis.pulls.create_pull_request(
        repo_name,
        lakefs_sdk.PullRequestCreation(title="Add new", description="adds new.txt", source_branch="feature", destination_branch="main"),
    ).id
    second = apis.pulls.create_pull_request(
        repo_name, lakefs_sdk.PullRequestCreation(title="Other", source_branch="main", destination_branch="feature")
    ).id
    pr = apis.pulls.get_pull_request(repo_name, first)
    assert (pr.title, pr.description, pr.status, pr.author) == ("Add new", "adds new.txt", "open", "quickstart")
    assert (pr.source_branch, pr.destination_branch) == ("feature", "main")
    # Newest first.
    listed = apis.pulls.list_pull_requests(repo_name).results
    assert [p.id for p in listed] == [second, first]
    apis.pulls.update_pull_request(repo_name, second, lakefs_sdk.PullRequestBasic(status="closed", title="Closed one"))
    assert [p.id for p in apis.pulls.list_pull_requests(repo_name, status="open").results] == [first]
    closed = apis.pulls.list_pull_requests(repo_name, status="closed").results
    assert [(p.id, p.title, p.status) for p in closed] == [(second, "Closed one", "closed")]
    assert closed[0].closed_date is not None
    merged = apis.pulls.merge_pull_request(repo_name, first)
    pr = apis.pulls.get_pull_request(repo_name, first)
    assert (pr.status, pr.merged_commit_id) == ("merged", merged.reference)
    assert read(apis, repo_name, "main", "new.txt") == b"n"
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.pulls.merge_pull_request(repo_name, first)
    assert error_status(excinfo) == 400
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.pulls.create_pull_request(
            repo_name, lakefs_sdk.PullRequestCreation(title="t", source_branch="main", destination_branch="main")
        )
    assert error_status(excinfo) == 400
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.pulls.get_pull_request(repo_name, "0" * 20)
    assert error_status(excinfo) == 404


# --- presigned multipart uploads -----------------------------------------------------------------


def test_presigned_multipart_upload(api_client, apis, repo_name):
    exp = lakefs_sdk.ExperimentalApi(api_client)
    supported = apis.config.get_config().storage_config.pre_sign_multipart_upload
    assert supported is (BLOCKSTORE_TYPE == "s3")
    if not supported:
        with pytest.raises(lakefs_sdk.ApiException) as excinfo:
            exp.create_presign_multipart_upload(repo_name, "main", "big.bin", parts=2)
        assert error_status(excinfo) == 501
        assert error_json(excinfo)["message"] == "presign multipart upload API is not supported"
        return
    first, second = b"a" * (5 * 1024 * 1024), b"tail"
    upload = exp.create_presign_multipart_upload(repo_name, "main", "big.bin", parts=1)
    assert len(upload.presigned_urls) == 1
    etags = [requests.put(upload.presigned_urls[0], data=first, timeout=60).headers["ETag"]]
    more = exp.upload_part(
        repo_name, "main", upload.upload_id, "big.bin", 2,
        lakefs_sdk.UploadPartFrom(physical_address=upload.physical_address),
    )
    etags.append(requests.put(more.presigned_url, data=second, timeout=60).headers["ETag"])
    stats = exp.complete_presign_multipart_upload(
        repo_name,
        "main",
        upload.upload_id,
        "big.bin",
        lakefs_sdk.CompletePresignMultipartUpload(
            physical_address=upload.physical_address,
            parts=[lakefs_sdk.UploadPart(part_number=i + 1, etag=e) for i, e in enumerate(etags)],
            user_metadata={"via": "pmpu"},
            content_type="application/x-test",
        ),
    )
    assert stats.size_bytes == len(first) + len(second)
    assert read(apis, repo_name, "main", "big.bin") == first + second
    stat = apis.objects.stat_object(repo_name, "main", "big.bin", user_metadata=True)
    assert (stat.content_type, stat.metadata) == ("application/x-test", {"via": "pmpu"})
    # An address given out for another path does not complete this one, even
    # with a real part uploaded.
    other = exp.create_presign_multipart_upload(repo_name, "main", "other.bin", parts=1)
    etag = requests.put(other.presigned_urls[0], data=b"part", timeout=60).headers["ETag"]
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        exp.complete_presign_multipart_upload(
            repo_name,
            "main",
            other.upload_id,
            "elsewhere.bin",
            lakefs_sdk.CompletePresignMultipartUpload(
                physical_address=other.physical_address,
                parts=[lakefs_sdk.UploadPart(part_number=1, etag=etag)],
            ),
        )
    assert error_status(excinfo) == 400
    assert "not an address this server gave out" in error_json(excinfo)["message"]
    exp.abort_presign_multipart_upload(
        repo_name, "main", other.upload_id, "other.bin",
        lakefs_sdk.AbortPresignMultipartUpload(physical_address=other.physical_address),
    )


# --- sample data ---------------------------------------------------------------------------------


def test_sample_repository(apis, base_url, fs):
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    from test_gateway_tools import host_port

    name = unique("sample")
    apis.repos.create_repository(
        lakefs_sdk.RepositoryCreation(name=name, storage_namespace=namespace(name), sample_data=True)
    )
    try:
        head = apis.refs.log_commits(name, "main", amount=1).results[0]
        assert (head.message, head.committer) == ("Add sample data", "quickstart")
        paths = sorted(o.path for o in apis.objects.list_objects(name, "main").results)
        assert paths == [
            "README.md",
            "data/lakes-by-country.csv",
            "data/lakes.source.md",
            "images/deepest-lakes.png",
            "images/lakes-by-country.png",
            "lakes.parquet",
        ]
        parquet = apis.objects.stat_object(name, "main", "lakes.parquet")
        assert parquet.size_bytes > 500 * 1024
        # A real table, read where it lies through the S3 gateway.
        s3fs = pafs.S3FileSystem(
            access_key=ACCESS_KEY_ID,
            secret_key=SECRET_ACCESS_KEY,
            region="us-east-1",
            endpoint_override=host_port(base_url),
            scheme="http",
        )
        table = pq.read_table(f"{name}/main/lakes.parquet", filesystem=s3fs)
        assert table.column_names == ["hylak_id", "name", "country", "max_depth_m"]
        assert table.num_rows == 100_000
        named = {r["name"]: r for r in table.to_pylist() if r["name"]}
        assert named["Caspian Sea"]["max_depth_m"] > 1000
        assert named["Superior"]["country"] == "United States of America"
        # lakefs-spec reads the README, written for this repository.
        with fs.open(f"lakefs://{name}/main/README.md", "rt") as f:
            readme = f.read()
        assert f"s3://{name}/main/lakes.parquet" in readme
        # The default branch is protected.
        with pytest.raises(lakefs_sdk.ApiException) as excinfo:
            upload(apis, name, "main", "new.txt", b"x")
        assert error_status(excinfo) == 403
        assert [r.pattern for r in apis.repos.get_branch_protection_rules(name)] == ["main"]
    finally:
        apis.repos.delete_repository(name)


def _wait_task(status, repo: str, task_id: str):
    for _ in range(300):
        s = status(repo, task_id)
        if s.done:
            return s
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish")


def test_dump_and_restore_tasks_rebuild_a_deleted_repository(apis, repo_name):
    """dumpSubmit/dumpStatus, delete the repository, a bare one over the same
    namespace, restoreSubmit/restoreStatus: every commit, branch and tag reads
    back as it was."""
    upload(apis, repo_name, "main", "data/a.csv", b"a,b\n1,2\n")
    commit(apis, repo_name, "main", "first")
    apis.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    upload(apis, repo_name, "dev", "data/b.csv", b"b\n")
    commit(apis, repo_name, "dev", "on dev")
    apis.tags.create_tag(repo_name, lakefs_sdk.TagCreation(id="v1", ref="main"))
    before = {
        b: [c.id for c in apis.refs.log_commits(repo_name, b).results] for b in ("main", "dev", "v1")
    }
    task = apis.repos.dump_submit(repo_name)
    dumped = _wait_task(apis.repos.dump_status, repo_name, task.id)
    assert dumped.error is None and dumped.refs is not None
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.repos.dump_status(repo_name, "no-such-task")
    assert error_status(excinfo) == 404
    ns = apis.repos.get_repository(repo_name).storage_namespace
    restore = lakefs_sdk.RefsRestore(
        commits_meta_range_id=dumped.refs.commits_meta_range_id,
        tags_meta_range_id=dumped.refs.tags_meta_range_id,
        branches_meta_range_id=dumped.refs.branches_meta_range_id,
    )
    # Not into a repository that has branches.
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.repos.restore_submit(repo_name, restore)
    assert error_status(excinfo) == 400
    assert "bare" in error_json(excinfo)["message"]
    apis.repos.delete_repository(repo_name)
    apis.repos.create_repository(lakefs_sdk.RepositoryCreation(name=repo_name, storage_namespace=ns), bare=True)
    task = apis.repos.restore_submit(repo_name, restore)
    restored = _wait_task(apis.repos.restore_status, repo_name, task.id)
    assert restored.error is None, restored.error
    assert sorted(b.id for b in apis.branches.list_branches(repo_name).results) == ["dev", "main"]
    assert [t.id for t in apis.tags.list_tags(repo_name).results] == ["v1"]
    after = {
        b: [c.id for c in apis.refs.log_commits(repo_name, b).results] for b in ("main", "dev", "v1")
    }
    assert after == before
    assert read(apis, repo_name, "dev", "data/b.csv") == b"b\n"
    assert read(apis, repo_name, "v1", "data/a.csv") == b"a,b\n1,2\n"
