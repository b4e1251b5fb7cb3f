"""The S3 gateway driven by boto3 (SigV4 header, streaming and presigned; SigV2)
and the AWS CLI: bucket = repository, key = <ref>/<path>."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import boto3
import botocore
import pytest
import requests
from botocore.config import Config

from conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, md5_hex


def s3_client(base_url: str, signature_version: str = "s3v4", **config):
    return boto3.client(
        "s3",
        endpoint_url=base_url,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        region_name="us-east-1",
        config=Config(signature_version=signature_version, s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
    )


@pytest.fixture
def s3(base_url):
    return s3_client(base_url)


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_buckets_are_repositories(s3, repo_name):
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert repo_name in names
    s3.head_bucket(Bucket=repo_name)
    assert s3.get_bucket_location(Bucket=repo_name).get("LocationConstraint") in (None, "")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_bucket(Bucket="no-such-repo-here")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket=repo_name)
    assert error_code(e) == "BucketAlreadyExists"


def test_put_get_head_delete_with_metadata_and_ranges(s3, repo_name):
    body = b"hello gateway " * 1000
    put = s3.put_object(Bucket=repo_name, Key="main/dir/hello.txt", Body=body, ContentType="text/plain", Metadata={"owner": "pytest"})
    assert put["ETag"] == f'"{md5_hex(body)}"'
    got = s3.get_object(Bucket=repo_name, Key="main/dir/hello.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "pytest"}
    part = s3.get_object(Bucket=repo_name, Key="main/dir/hello.txt", Range="bytes=6-12")
    assert part["Body"].read() == body[6:13]
    assert part["ContentRange"] == f"bytes 6-12/{len(body)}"
    head = s3.head_object(Bucket=repo_name, Key="main/dir/hello.txt")
    assert head["ContentLength"] == len(body)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=repo_name, Key="main/dir/hello.txt", Range=f"bytes={len(body) + 10}-")
    assert error_code(e) == "InvalidRange"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=repo_name, Key="main/nope")
    assert error_code(e) == "NoSuchKey"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=repo_name, Key="main/dir/hello.txt", Body=b"x", IfNoneMatch="*")
    assert error_code(e) == "PreconditionFailed"
    s3.delete_object(Bucket=repo_name, Key="main/dir/hello.txt")
    s3.delete_object(Bucket=repo_name, Key="main/dir/hello.txt")  # missing: still 204
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=repo_name, Key="main/dir/hello.txt")


def test_writes_need_a_branch_and_reads_take_any_ref(s3, repo_name, api_client):
    import lakefs_sdk

    s3.put_object(Bucket=repo_name, Key="main/a.csv", Body=b"v1")
    commits = lakefs_sdk.CommitsApi(api_client)
    c = commits.commit(repo_name, "main", lakefs_sdk.CommitCreation(message="v1"))
    s3.put_object(Bucket=repo_name, Key="main/a.csv", Body=b"v2")
    assert s3.get_object(Bucket=repo_name, Key="main/a.csv")["Body"].read() == b"v2"
    assert s3.get_object(Bucket=repo_name, Key="main@/a.csv")["Body"].read() == b"v1"
    assert s3.get_object(Bucket=repo_name, Key=f"{c.id}/a.csv")["Body"].read() == b"v1"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=repo_name, Key=f"{c.id}/a.csv", Body=b"x")
    assert error_code(e) == "NoSuchBucket"


def test_listing_v1_and_v2_with_branches_at_the_root(s3, repo_name):
    for i in range(5):
        s3.put_object(Bucket=repo_name, Key=f"main/data/part-{i}.csv", Body=b"x")
    s3.put_object(Bucket=repo_name, Key="main/top.txt", Body=b"t")
    root = s3.list_objects_v2(Bucket=repo_name, Delimiter="/")
    assert [p["Prefix"] for p in root["CommonPrefixes"]] == ["main/"]
    top = s3.list_objects_v2(Bucket=repo_name, Prefix="main/", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["main/data/"]
    assert [o["Key"] for o in top["Contents"]] == ["main/top.txt"]
    keys, token = [], None
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=repo_name, Prefix="main/data/", MaxKeys=2, **kwargs)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert keys == [f"main/data/part-{i}.csv" for i in range(5)]
    v1 = s3.list_objects(Bucket=repo_name, Prefix="main/data/", MaxKeys=3)
    assert len(v1["Contents"]) == 3 and v1["IsTruncated"]
    rest = s3.list_objects(Bucket=repo_name, Prefix="main/data/", Marker=v1["Contents"][-1]["Key"])
    assert [o["Key"] for o in rest["Contents"]] == ["main/data/part-3.csv", "main/data/part-4.csv"]
    paginator = s3.get_paginator("list_objects_v2")
    all_keys = [o["Key"] for page in paginator.paginate(Bucket=repo_name, Prefix="main/", PaginationConfig={"PageSize": 2}) for o in page.get("Contents", [])]
    assert len(all_keys) == 6


def test_copy_within_and_across_branches_and_delete_many(s3, repo_name, api_client):
    import lakefs_sdk

    s3.put_object(Bucket=repo_name, Key="main/src.bin", Body=b"source", Metadata={"k": "v"})
    lakefs_sdk.BranchesApi(api_client).create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    s3.copy_object(Bucket=repo_name, Key="dev/copy.bin", CopySource={"Bucket": repo_name, "Key": "main/src.bin"})
    got = s3.get_object(Bucket=repo_name, Key="dev/copy.bin")
    assert got["Body"].read() == b"source" and got["Metadata"] == {"k": "v"}
    s3.copy_object(Bucket=repo_name, Key="dev/replaced.bin", CopySource=f"{repo_name}/main/src.bin", MetadataDirective="REPLACE", Metadata={"new": "1"})
    assert s3.head_object(Bucket=repo_name, Key="dev/replaced.bin")["Metadata"] == {"new": "1"}
    out = s3.delete_objects(Bucket=repo_name, Delete={"Objects": [{"Key": "dev/copy.bin"}, {"Key": "dev/never"}, {"Key": "nobranch/x"}]})
    assert sorted(d["Key"] for d in out.get("Deleted", [])) == ["dev/copy.bin", "dev/never"]
    assert [e["Key"] for e in out.get("Errors", [])] == ["nobranch/x"]
    quiet = s3.delete_objects(Bucket=repo_name, Delete={"Objects": [{"Key": "dev/replaced.bin"}], "Quiet": True})
    assert "Deleted" not in quiet


def test_multipart_upload_with_listing_and_copy_part(s3, repo_name):
    part = os.urandom(5 * 1024 * 1024)
    mpu = s3.create_multipart_upload(Bucket=repo_name, Key="main/big.bin", ContentType="application/x-test")
    uid = mpu["UploadId"]
    uploads = s3.list_multipart_uploads(Bucket=repo_name)["Uploads"]
    assert [u["UploadId"] for u in uploads] == [uid]
    e1 = s3.upload_part(Bucket=repo_name, Key="main/big.bin", UploadId=uid, PartNumber=1, Body=part)["ETag"]
    s3.put_object(Bucket=repo_name, Key="main/small.bin", Body=b"tail-bytes")
    e2 = s3.upload_part_copy(Bucket=repo_name, Key="main/big.bin", UploadId=uid, PartNumber=2, CopySource=f"{repo_name}/main/small.bin", CopySourceRange="bytes=0-3")["CopyPartResult"]["ETag"]
    parts = s3.list_parts(Bucket=repo_name, Key="main/big.bin", UploadId=uid)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=repo_name, Key="main/big.bin", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})
    assert error_code(e) == "InvalidPartOrder"
    done = s3.complete_multipart_upload(Bucket=repo_name, Key="main/big.bin", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert done["ETag"].strip('"').endswith("-2")
    got = s3.get_object(Bucket=repo_name, Key="main/big.bin")
    assert got["Body"].read() == part + b"tail"
    assert got["ContentType"] == "application/x-test"
    aborted = s3.create_multipart_upload(Bucket=repo_name, Key="main/gone.bin")["UploadId"]
    s3.abort_multipart_upload(Bucket=repo_name, Key="main/gone.bin", UploadId=aborted)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_parts(Bucket=repo_name, Key="main/gone.bin", UploadId=aborted)
    assert error_code(e) == "NoSuchUpload"


def test_presigned_urls_and_sigv2(base_url, s3, repo_name):
    s3.put_object(Bucket=repo_name, Key="main/p.txt", Body=b"presigned")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": repo_name, "Key": "main/p.txt"}, ExpiresIn=300)
    assert requests.get(url, timeout=10).content == b"presigned"
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": repo_name, "Key": "main/up.txt"}, ExpiresIn=300)
    assert requests.put(put_url, data=b"via presigned put", timeout=10).status_code == 200
    assert s3.get_object(Bucket=repo_name, Key="main/up.txt")["Body"].read() == b"via presigned put"
    tampered = url.replace("main%2Fp.txt", "main%2Fq.txt").replace("main/p.txt", "main/q.txt")
    assert requests.get(tampered, timeout=10).status_code == 403
    v2 = s3_client(base_url, signature_version="s3")
    v2.put_object(Bucket=repo_name, Key="main/v2.txt", Body=b"sigv2")
    assert v2.get_object(Bucket=repo_name, Key="main/v2.txt")["Body"].read() == b"sigv2"
    v2_url = v2.generate_presigned_url("get_object", Params={"Bucket": repo_name, "Key": "main/v2.txt"}, ExpiresIn=300)
    assert requests.get(v2_url, timeout=10).content == b"sigv2"


def test_wrong_secret_and_unknown_key_are_refused(base_url, repo_name):
    bad = boto3.client("s3", endpoint_url=base_url, aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key="x" * 40,
                       region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.list_objects_v2(Bucket=repo_name)
    assert error_code(e) == "SignatureDoesNotMatch"
    unknown = boto3.client("s3", endpoint_url=base_url, aws_access_key_id="AKIAUNKNOWNUNKNOWN00", aws_secret_access_key="x" * 40,
                           region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        unknown.list_buckets()
    assert error_code(e) == "AccessDenied"


def test_unsupported_features_answer_errors(s3, repo_name):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_policy(Bucket=repo_name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket=repo_name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert s3.get_bucket_versioning(Bucket=repo_name).get("Status") is None


def test_aws_cli_cp_sync_ls_rm(base_url, repo_name, tmp_path):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    aws = [sys.executable, "-m", "awscli", "--endpoint-url", base_url, "s3"]
    big = tmp_path / "big.bin"
    data = os.urandom(100 * 1024 * 1024)
    big.write_bytes(data)
    subprocess.run(aws + ["cp", str(big), f"s3://{repo_name}/main/big.bin"], check=True, env=env, capture_output=True)
    back = tmp_path / "back.bin"
    subprocess.run(aws + ["cp", f"s3://{repo_name}/main/big.bin", str(back)], check=True, env=env, capture_output=True)
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(data).digest()
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    for name in ["a.txt", "sub/b.txt", "sub/c.txt"]:
        (src / name).write_text(name)
    subprocess.run(aws + ["sync", str(src), f"s3://{repo_name}/main/tree/"], check=True, env=env, capture_output=True)
    ls = subprocess.run(aws + ["ls", "--recursive", f"s3://{repo_name}/main/tree/"], check=True, env=env, capture_output=True, text=True).stdout
    assert sorted(line.split()[-1] for line in ls.splitlines()) == ["main/tree/a.txt", "main/tree/sub/b.txt", "main/tree/sub/c.txt"]
    subprocess.run(aws + ["rm", "--recursive", f"s3://{repo_name}/main/tree/"], check=True, env=env, capture_output=True)
    ls = subprocess.run(aws + ["ls", "--recursive", f"s3://{repo_name}/main/tree/"], env=env, capture_output=True, text=True).stdout
    assert ls.strip() == ""


def test_multipart_urls_must_name_the_upload_s_key(s3, repo_name):
    uid = s3.create_multipart_upload(Bucket=repo_name, Key="main/a.bin")["UploadId"]
    etag = s3.upload_part(Bucket=repo_name, Key="main/a.bin", UploadId=uid, PartNumber=1, Body=b"data")["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=repo_name, Key="main/b.bin", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert error_code(e) == "NoSuchUpload"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part(Bucket=repo_name, Key="main/b.bin", UploadId=uid, PartNumber=2, Body=b"x")
    assert error_code(e) == "NoSuchUpload"
    s3.complete_multipart_upload(Bucket=repo_name, Key="main/a.bin", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket=repo_name, Key="main/a.bin")["Body"].read() == b"data"


def test_listing_edges_and_inert_content(s3, repo_name):
    s3.put_object(Bucket=repo_name, Key="main/x.html", Body=b"<script>alert(1)</script>", ContentType="text/html")
    empty = s3.list_objects_v2(Bucket=repo_name, Prefix="main/", MaxKeys=0)
    assert empty["KeyCount"] == 0 and "NextContinuationToken" not in empty
    past = s3.list_objects_v2(Bucket=repo_name, Prefix="main/", StartAfter="zzz")
    assert past["KeyCount"] == 0
    got = s3.get_object(Bucket=repo_name, Key="main/x.html")
    headers = got["ResponseMetadata"]["HTTPHeaders"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
