# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""URL-valued options: their password and signature parts become no_log values, so Ansible masks
them in invocation.module_args, in what the module logs (syslog/journal) and in its messages."""

from __future__ import annotations

import pytest

from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import HerokuModule, url_secrets
from herokupg.ops.base import Result

S3 = (
    "https://bucket.s3.amazonaws.com/dumps/app.dump?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z"
    "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Security-Token=FQoGZXIvYXdz%2Btoken"
    "&X-Amz-Signature=0123456789abcdef0123456789abcdef"
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://user:p%40ss@example.com/dump", {"p%40ss", "p@ss"}),
        ("https://user@example.com/dump", set()),
        ("https://example.com/x.dump?expires=123&signature=abcdef", {"abcdef"}),
        ("https://blob.core.windows.net/c/x.dump?sv=2024&sig=abc%2Fdef", {"abc%2Fdef", "abc/def"}),
        ("latest", set()),
        ("b001", set()),
        (["https://u:pw1@h/x", {"k": "http://h/?token=tk2"}], {"pw1", "tk2"}),
        (None, set()),
        (42, set()),
    ],
)
def test_url_secrets(value, expected):
    assert url_secrets(value) == expected


def test_presigned_s3_url():
    found = url_secrets(S3)
    assert "0123456789abcdef0123456789abcdef" in found
    assert "FQoGZXIvYXdz+token" in found and "FQoGZXIvYXdz%2Btoken" in found
    assert "AKIAEXAMPLE/20260101/us-east-1/s3/aws4_request" in found
    assert not found & {"AWS4-HMAC-SHA256", "3600", "host", "20260101T000000Z"}


def test_url_options_become_no_log_values(run_module):
    seen = {}

    def main():
        module = HerokuModule(dict(backup=dict(type="str"), extra=dict(type="list", elements="str")))
        seen["module"] = module
        module._module.log("Invoked with backup=%s" % module.params["backup"])  # pylint: disable=protected-access
        module.run(lambda ctx: Result(data={"source": module.params["backup"]}))

    args = {"app": "myapp", "api_key": "k" * 20, "backup": "https://u:hunter2pw@h/x.dump?signature=5ig",
            "extra": ["https://h/y?X-Amz-Signature=abc123"]}
    run_module(main, args)
    values = seen["module"]._module.no_log_values  # pylint: disable=protected-access
    assert {"hunter2pw", "5ig", "abc123"} <= values
