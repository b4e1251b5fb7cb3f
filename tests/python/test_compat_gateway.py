"""S3 gateway behaviours that S3 tools rely on (issue #17), each with a real
client: boto3's SigV2 bucket requests, s3cmd's ACL round trips (cp, mv,
setacl), object tagging kept through commits, and directory markers from
pyarrow and boto3."""

from __future__ import annotations

import subprocess
import sys

import boto3
import botocore
import lakefs_sdk
from botocore.config import Config
import pyarrow.fs as pafs
import pytest

from conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from test_gateway_boto3 import error_code, s3_client
from test_gateway_tools import SCRIPTS, clean_env, host_port, run, s3cmd_config


# --- SigV2 bucket-level requests ----------------------------------------------------------


def test_sigv2_bucket_requests_with_boto3(base_url, repo_name):
    """botocore's SigV2 signs `/<bucket>/` while sending `/<bucket>`."""
    s3 = s3_client(base_url, signature_version="s3")
    s3.put_object(Bucket=repo_name, Key="main/v2/a.txt", Body=b"a")
    s3.head_bucket(Bucket=repo_name)
    listed = s3.list_objects(Bucket=repo_name, Prefix="main/v2/")
    assert [o["Key"] for o in listed["Contents"]] == ["main/v2/a.txt"]
    listed = s3.list_objects_v2(Bucket=repo_name, Prefix="main/", Delimiter="/")
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["main/v2/"]
    # A wrong secret is still refused on the same path.
    bad = boto3.client(
        "s3",
        endpoint_url=base_url,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key="not-the-secret",
        region_name="us-east-1",
        config=Config(signature_version="s3", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        bad.list_objects(Bucket=repo_name)
    assert error_code(excinfo) == "SignatureDoesNotMatch"


# --- ACLs ------------------------------------------------------------------------------------


def test_acls_are_canned_private(base_url, repo_name):
    s3 = s3_client(base_url)
    s3.put_object(Bucket=repo_name, Key="main/acl.txt", Body=b"x")
    for acl in (
        s3.get_bucket_acl(Bucket=repo_name),
        s3.get_object_acl(Bucket=repo_name, Key="main/acl.txt"),
    ):
        assert acl["Owner"]["ID"] == "quickstart"
        assert [(g["Grantee"]["Type"], g["Grantee"]["ID"], g["Permission"]) for g in acl["Grants"]] == [
            ("CanonicalUser", "quickstart", "FULL_CONTROL")
        ]
    s3.put_object_acl(Bucket=repo_name, Key="main/acl.txt", ACL="private")
    s3.put_bucket_acl(Bucket=repo_name, ACL="private")
    for call in (
        lambda: s3.put_object_acl(Bucket=repo_name, Key="main/acl.txt", ACL="public-read"),
        lambda: s3.put_bucket_acl(Bucket=repo_name, ACL="public-read-write"),
        lambda: s3.put_object_acl(
            Bucket=repo_name, Key="main/acl.txt", GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"'
        ),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            call()
        assert error_code(excinfo) == "NotImplemented"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        s3.get_object_acl(Bucket=repo_name, Key="main/missing.txt")
    assert error_code(excinfo) == "NoSuchKey"


@pytest.mark.parametrize("signature_v2", [False, True], ids=["sigv4", "sigv2"])
def test_s3cmd_cp_mv_and_setacl(base_url, repo_name, tmp_path, signature_v2):
    cfg = s3cmd_config(tmp_path, base_url, signature_v2)
    env = clean_env(tmp_path)
    s3cmd = [sys.executable, str(SCRIPTS / "s3cmd"), "-c", str(cfg)]

    def s3(*args: str) -> str:
        proc = run(s3cmd + list(args), env, text=True)
        assert "ERROR" not in proc.stderr, proc.stderr
        return proc.stdout

    src = tmp_path / "f.txt"
    src.write_bytes(b"copied and moved\n")
    root = f"s3://{repo_name}/main"
    s3("put", str(src), f"{root}/a.txt")
    s3("cp", f"{root}/a.txt", f"{root}/b.txt")
    s3("mv", f"{root}/b.txt", f"{root}/c.txt")
    s3("setacl", "--acl-private", f"{root}/c.txt")
    grants = s3_client(base_url).get_object_acl(Bucket=repo_name, Key="main/c.txt")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    listed = s3("ls", f"{root}/")
    keys = sorted(line.split()[-1] for line in listed.splitlines() if line.strip())
    assert keys == [f"{root}/a.txt", f"{root}/c.txt"], listed
    out = tmp_path / "back.txt"
    s3("get", f"{root}/c.txt", str(out))
    assert out.read_bytes() == b"copied and moved\n"
    # Making an object public is refused, and says so.
    proc = subprocess.run(
        s3cmd + ["setacl", "--acl-public", f"{root}/c.txt"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    assert "NotImplemented" in proc.stderr + proc.stdout


# --- Tagging -------------------------------------------------------------------------------------


def test_object_tags_are_kept_and_committed(base_url, repo_name, api_client):
    s3 = s3_client(base_url)
    s3.put_object(Bucket=repo_name, Key="main/t/a.parquet", Body=b"a", Tagging="team=data&stage=raw%20zone")
    tags = s3.get_object_tagging(Bucket=repo_name, Key="main/t/a.parquet")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "data", "stage": "raw zone"}
    assert s3.head_object(Bucket=repo_name, Key="main/t/a.parquet")["ResponseMetadata"]["HTTPHeaders"][
        "x-amz-tagging-count"
    ] == "2"
    s3.put_object(Bucket=repo_name, Key="main/t/b.parquet", Body=b"b")
    s3.put_object_tagging(
        Bucket=repo_name,
        Key="main/t/b.parquet",
        Tagging={"TagSet": [{"Key": "owner", "Value": "hive"}]},
    )
    assert s3.get_object_tagging(Bucket=repo_name, Key="main/t/b.parquet")["TagSet"] == [
        {"Key": "owner", "Value": "hive"}
    ]
    # Tags are part of the entry: they go through a commit and a branch.
    lakefs_sdk.CommitsApi(api_client).commit(repo_name, "main", lakefs_sdk.CommitCreation(message="tagged"))
    lakefs_sdk.BranchesApi(api_client).create_branch(
        repo_name, lakefs_sdk.BranchCreation(name="tagdev", source="main")
    )
    assert s3.get_object_tagging(Bucket=repo_name, Key="tagdev/t/b.parquet")["TagSet"] == [
        {"Key": "owner", "Value": "hive"}
    ]
    s3.delete_object_tagging(Bucket=repo_name, Key="tagdev/t/b.parquet")
    assert s3.get_object_tagging(Bucket=repo_name, Key="tagdev/t/b.parquet")["TagSet"] == []
    assert s3.get_object_tagging(Bucket=repo_name, Key="main/t/b.parquet")["TagSet"] != []
    # A tag change is a change of the object.
    diff = lakefs_sdk.BranchesApi(api_client).diff_branch(repo_name, "tagdev")
    assert [(d.path, d.type) for d in diff.results] == [("t/b.parquet", "changed")]
    # Copies keep tags unless told to replace them.
    s3.copy_object(Bucket=repo_name, Key="main/t/c.parquet", CopySource=f"{repo_name}/main/t/a.parquet")
    assert len(s3.get_object_tagging(Bucket=repo_name, Key="main/t/c.parquet")["TagSet"]) == 2
    s3.copy_object(
        Bucket=repo_name,
        Key="main/t/d.parquet",
        CopySource=f"{repo_name}/main/t/a.parquet",
        Tagging="only=one",
        TaggingDirective="REPLACE",
    )
    assert s3.get_object_tagging(Bucket=repo_name, Key="main/t/d.parquet")["TagSet"] == [
        {"Key": "only", "Value": "one"}
    ]
    # Multipart uploads carry the tags given at the start.
    upload = s3.create_multipart_upload(Bucket=repo_name, Key="main/t/mp.bin", Tagging="kind=multipart")
    part = s3.upload_part(
        Bucket=repo_name, Key="main/t/mp.bin", UploadId=upload["UploadId"], PartNumber=1, Body=b"m" * 1024
    )
    s3.complete_multipart_upload(
        Bucket=repo_name,
        Key="main/t/mp.bin",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert s3.get_object_tagging(Bucket=repo_name, Key="main/t/mp.bin")["TagSet"] == [
        {"Key": "kind", "Value": "multipart"}
    ]
    # S3's limits.
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        s3.put_object_tagging(
            Bucket=repo_name,
            Key="main/t/a.parquet",
            Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]},
        )
    assert error_code(excinfo) == "InvalidTag"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        s3.put_object_tagging(
            Bucket=repo_name, Key="main/t/missing", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}
        )
    assert error_code(excinfo) == "NoSuchKey"


# --- Directory markers --------------------------------------------------------------------------


def test_directory_markers_from_pyarrow(base_url, repo_name):
    fs = pafs.S3FileSystem(
        access_key=ACCESS_KEY_ID,
        secret_key=SECRET_ACCESS_KEY,
        region="us-east-1",
        endpoint_override=host_port(base_url),
        scheme="http",
        allow_bucket_creation=False,
        allow_bucket_deletion=False,
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1),
    )
    # The branch root itself, then nested directories.
    fs.create_dir(f"{repo_name}/main")
    fs.create_dir(f"{repo_name}/main/tables/events", recursive=True)
    info = fs.get_file_info(f"{repo_name}/main/tables/events")
    assert info.type == pafs.FileType.Directory
    with fs.open_output_stream(f"{repo_name}/main/tables/events/part-0.csv") as f:
        f.write(b"a,b\n1,2\n")
    listed = fs.get_file_info(pafs.FileSelector(f"{repo_name}/main/tables", recursive=True))
    assert sorted((i.path, i.type) for i in listed) == [
        (f"{repo_name}/main/tables/events", pafs.FileType.Directory),
        (f"{repo_name}/main/tables/events/part-0.csv", pafs.FileType.File),
    ]
    fs.delete_dir(f"{repo_name}/main/tables")
    assert fs.get_file_info(f"{repo_name}/main/tables").type == pafs.FileType.NotFound


def test_directory_markers_list_as_on_s3(base_url, repo_name):
    s3 = s3_client(base_url)
    for key in ("main/", "main/dir/", "main/dir/file.txt", "main/empty/"):
        s3.put_object(Bucket=repo_name, Key=key, Body=b"")
    head = s3.head_object(Bucket=repo_name, Key="main/")
    assert head["ContentLength"] == 0
    # The root marker stores nothing, and a body there is refused.
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        s3.put_object(Bucket=repo_name, Key="main/", Body=b"data")
    assert error_code(excinfo) == "InvalidArgument"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        s3.put_object(Bucket=repo_name, Key="nosuchbranch/", Body=b"")
    assert error_code(excinfo) == "NoSuchBucket"
    top = s3.list_objects_v2(Bucket=repo_name, Prefix="main/", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["main/dir/", "main/empty/"]
    assert "Contents" not in top
    inside = s3.list_objects_v2(Bucket=repo_name, Prefix="main/dir/", Delimiter="/")
    assert [o["Key"] for o in inside["Contents"]] == ["main/dir/", "main/dir/file.txt"]
    assert inside["Contents"][0]["Size"] == 0
    flat = s3.list_objects_v2(Bucket=repo_name, Prefix="main/")
    assert [o["Key"] for o in flat["Contents"]] == ["main/dir/", "main/dir/file.txt", "main/empty/"]
    s3.delete_object(Bucket=repo_name, Key="main/empty/")
    s3.delete_object(Bucket=repo_name, Key="main/")
    flat = s3.list_objects_v2(Bucket=repo_name, Prefix="main/")
    assert [o["Key"] for o in flat["Contents"]] == ["main/dir/", "main/dir/file.txt"]
