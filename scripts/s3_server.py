"""moto's S3 server, with unknown multipart upload ids answered as S3 does.

moto 5.2.5 answers UploadPart, UploadPartCopy and CompleteMultipartUpload
for an upload id it does not know with a 500 (a KeyError), and accepts an
upload id under any key; S3 answers both with 404 NoSuchUpload. Tarn's S3
block store maps NoSuchUpload to NotFound, which its conformance suite
checks, so the test server behaves like S3 here. Everything else is moto's.

It also keeps a replaced object's bytes until nothing uses them: moto 5.2.5
closes them as soon as another PUT of the same key lands, so a PUT still
computing its ETag reads a closed file and answers 500 (concurrent PUTs of one
key, which the conformance suite makes, fail at random).

Usage: s3_server.py HOST PORT
"""

import sys

from moto.s3 import responses
from moto.s3 import models
from moto.s3.exceptions import NoSuchUpload
from moto.server import main


def _require_upload(response, bucket_name, upload_id, key_name):
    upload = response.backend.get_bucket(bucket_name).multiparts.get(upload_id)
    if upload is None or upload.key_name != key_name:
        raise NoSuchUpload(upload_id=upload_id)


def _guard_part(method):
    def guarded(self):
        _require_upload(self, self.bucket_name, self._get_param("uploadId"), self.parse_key_name())
        return method(self)

    return guarded


def _guard_post(method):
    def guarded(self, request, body, bucket_name, query, key_name):
        if "uploadId" in query:
            upload_id = query["uploadId"][0]
            existing = self.backend.get_object(bucket_name, key_name)
            completed = existing is not None and existing.multipart is not None and existing.multipart.id == upload_id
            if not completed:  # completing a completed upload again is idempotent in S3
                _require_upload(self, bucket_name, upload_id, key_name)
        return method(self, request, body, bucket_name, query, key_name)

    return guarded


responses.S3Response.upload_part = _guard_part(responses.S3Response.upload_part)
responses.S3Response.upload_part_copy = _guard_part(responses.S3Response.upload_part_copy)
responses.S3Response.abort_multipart_upload = _guard_part(responses.S3Response.abort_multipart_upload)
responses.S3Response._key_response_post = _guard_post(responses.S3Response._key_response_post)

_dispose = models.FakeKey.dispose


def _dispose_when_unused(self, garbage=False):
    # Called with garbage=True from __del__, once no request holds the key.
    if garbage:
        _dispose(self, garbage=False)


models.FakeKey.dispose = _dispose_when_unused

if __name__ == "__main__":
    host, port = sys.argv[1], sys.argv[2]
    main(["-H", host, "-p", port])
