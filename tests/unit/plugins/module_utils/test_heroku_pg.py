# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible adapter: common options, env fallbacks, core results and errors -> exit/fail."""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import subprocess
import sys

import httpx
import pytest

from ansible_collections.herokuops.postgres.plugins.module_utils import _heroku_pg as heroku_pg
from ansible_collections.herokuops.postgres.plugins.module_utils._heroku_pg import (
    HerokuModule,
    common_argument_spec,
    wait_argument_spec,
)
from herokupg.client import HerokuClient
from herokupg.errors import (
    APIError,
    ConflictError,
    ConnectionFailedError,
    NotFoundError,
    OperationTimeoutError,
    TransferFailedError,
    UnexpectedResponseError,
    ValidationError,
)
from herokupg.models import App
from herokupg.ops.base import Context, PlannedRequest, Result, WaitOptions
from herokupg.pgconnect import MissingPsycopgError

ENV = ("HEROKU_API_KEY", "HEROKU_API_URL", "HEROKU_DATA_API_URL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def module_main(spec=None, waits=False, operation=None, database=None, seen=None):
    """A minimal module built on HerokuModule, as the collection's modules are."""

    def main():
        module = HerokuModule(spec or {}, waits=waits)
        if seen is not None:
            seen["module"] = module
            seen["context"] = module.context()
        module.run(operation or (lambda ctx: Result()), database=database)

    return main


# -- argument spec ------------------------------------------------------------------------------


def test_common_argument_spec():
    spec = common_argument_spec()
    assert set(spec) == {
        "app", "api_key", "api_url", "data_api_url", "timeout", "retries", "rate_limit_retries", "validate_certs"
    }
    assert spec["app"] == {"type": "str", "required": True}
    assert spec["api_key"]["no_log"] is True
    assert spec["api_key"]["fallback"][1] == ["HEROKU_API_KEY"]
    assert spec["api_url"]["fallback"][1] == ["HEROKU_API_URL"]
    assert spec["data_api_url"]["fallback"][1] == ["HEROKU_DATA_API_URL"]
    defaults = [spec[name]["default"] for name in ("timeout", "retries", "rate_limit_retries", "validate_certs")]
    assert defaults == [30, 3, 10, True]


def test_retry_documentation_matches_the_client():
    """The retries and rate_limit_retries docs quote the client's figures: keep them in step."""
    import inspect

    import yaml

    from ansible_collections.herokuops.postgres.plugins.doc_fragments.heroku import ModuleDocFragment
    from herokupg import client

    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    defaults = inspect.signature(client.HerokuClient).parameters
    for name in ("retries", "rate_limit_retries"):
        assert options[name]["default"] == common_argument_spec()[name]["default"] == defaults[name].default
    retries, limited = " ".join(options["retries"]["description"]), " ".join(options["rate_limit_retries"]["description"])
    assert "up to %g seconds before the first repeat" % defaults["backoff_base"].default in retries
    assert "at most %g seconds" % defaults["backoff_max"].default in retries
    assert "C(GET), C(PUT), C(DELETE)" in retries
    assert client._IDEMPOTENT_METHODS == {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}  # pylint: disable=protected-access
    assert "(at most %g seconds)" % client.RETRY_AFTER_MAX in limited
    assert "from up to %g seconds" % client.REFILL_INTERVAL in limited


def test_wait_options_only_when_asked(run_module):
    assert set(wait_argument_spec()) == {"wait", "wait_timeout", "poll_interval"}
    seen = {}
    run_module(module_main(seen=seen), {"app": "a"})
    assert "wait" not in seen["module"].params
    assert seen["context"].wait == WaitOptions()

    out = run_module(module_main(waits=True, seen=seen), {"app": "a", "wait": False, "wait_timeout": 12, "poll_interval": 0.5})
    assert not out.failed
    assert seen["context"].wait == WaitOptions(enabled=False, timeout=12.0, poll_interval=0.5)

    bad = run_module(module_main(waits=True), {"app": "a", "wait_timeout": "soon"})
    assert bad.failed and "wait_timeout" in bad["msg"]


def test_app_is_required(run_module):
    out = run_module(module_main(), {})
    assert out.failed
    assert "missing required arguments: app" in out["msg"]


def test_unknown_option_is_refused(run_module):
    out = run_module(module_main(), {"app": "a", "apikey": "x"})
    assert out.failed
    assert "apikey" in out["msg"]


def test_env_fallbacks(run_module, monkeypatch):
    monkeypatch.setenv("HEROKU_API_KEY", "env-key-123")
    monkeypatch.setenv("HEROKU_API_URL", "http://127.0.0.1:5999")
    monkeypatch.setenv("HEROKU_DATA_API_URL", "http://127.0.0.1:6001")
    seen = {}
    out = run_module(module_main(seen=seen), {"app": "a"})
    assert not out.failed
    params = seen["module"].params
    assert (params["api_key"], params["api_url"], params["data_api_url"]) == (
        "env-key-123",
        "http://127.0.0.1:5999",
        "http://127.0.0.1:6001",
    )
    client = seen["context"].api.client
    assert (client.api_url, client.data_api_url) == ("http://127.0.0.1:5999", "http://127.0.0.1:6001")
    assert "env-key-123" in seen["module"]._module.no_log_values  # pylint: disable=protected-access


def test_options_win_over_env(run_module, monkeypatch):
    monkeypatch.setenv("HEROKU_API_KEY", "env-key-123")
    monkeypatch.setenv("HEROKU_API_URL", "http://127.0.0.1:5999")
    seen = {}
    args = {"app": "a", "api_key": "arg-key-456", "api_url": "http://127.0.0.1:7000", "timeout": 4, "retries": 0,
            "rate_limit_retries": 2}
    run_module(module_main(seen=seen), args, check_mode=True)
    assert seen["module"].params["api_key"] == "arg-key-456"
    context = seen["context"]
    assert isinstance(context, Context)
    assert context.check_mode is True
    assert context.api.client.api_url == "http://127.0.0.1:7000"
    assert context.api.client.data_api_url == "http://127.0.0.1:7000"  # the sandbox serves both
    assert (context.api.client.retries, context.api.client.rate_limit_retries) == (0, 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"timeout": 0}, "timeout must be more than 0 seconds, got 0"),
        ({"retries": -1}, "retries must be 0 or more, got -1"),
        ({"rate_limit_retries": -1}, "rate_limit_retries must be 0 or more, got -1"),
        ({"api_url": "ftp://example.invalid"}, "API URL must be an absolute http(s) URL"),
    ],
)
def test_bad_connection_options_fail(run_module, args, message):
    out = run_module(module_main(), dict(app="myapp", **args))
    assert out.failed
    assert message in out["msg"]


# -- results -----------------------------------------------------------------------------------


def _result():
    return Result(
        changed=True,
        data={"thing": {"id": 1}},
        before={"x": 1},
        after={"x": 2},
        requests=[PlannedRequest("PATCH", "/p", {"x": 2}, "set x")],
        warnings=["mind the gap"],
    )


def test_run_exits_with_the_result(run_module):
    out = run_module(module_main(operation=lambda ctx: _result()), {"app": "a"})
    assert not out.failed
    assert out.result == {
        "changed": True,
        "thing": {"id": 1},
        "requests": [{"method": "PATCH", "path": "/p", "body": {"x": 2}, "description": "set x"}],
    }
    assert out.warnings == ["mind the gap"]


def test_diff_only_in_diff_mode(run_module):
    out = run_module(module_main(operation=lambda ctx: _result()), {"app": "a"}, diff=True)
    assert out["diff"] == {"before": {"x": 1}, "after": {"x": 2}}
    unchanged = run_module(module_main(operation=lambda ctx: Result(data={"y": 1})), {"app": "a"}, diff=True)
    assert "diff" not in unchanged.result  # nothing managed, nothing to show
    assert unchanged.result == {"changed": False, "y": 1, "requests": []}


def test_operation_sees_check_mode(run_module):
    seen = []

    def operation(ctx):
        seen.append(ctx.check_mode)
        return Result()

    run_module(module_main(operation=operation), {"app": "a"}, check_mode=True)
    run_module(module_main(operation=operation), {"app": "a"})
    assert seen == [True, False]


# -- errors ------------------------------------------------------------------------------------


def _raise(exc):
    def operation(ctx):
        raise exc

    return operation


def test_api_error_names_app_database_error_id_and_request_id(run_module):
    exc = ConflictError(
        "Invalid value -5 for log_min_duration_statement.", status=422, error_id="invalid_params", request_id="req-42"
    )
    out = run_module(module_main(operation=_raise(exc), database="DATABASE_URL"), {"app": "myapp"})
    assert out.failed
    assert out["msg"] == (
        "Invalid value -5 for log_min_duration_statement. (app myapp, database DATABASE_URL) "
        "[Error ID: invalid_params; Request-Id: req-42]"
    )
    assert (out["app"], out["database"], out["status"], out["error_id"], out["request_id"]) == (
        "myapp",
        "DATABASE_URL",
        422,
        "invalid_params",
        "req-42",
    )


def test_api_error_without_ids_or_database(run_module):
    out = run_module(module_main(operation=_raise(NotFoundError("Couldn't find that app.", status=404))), {"app": "ghost"})
    assert out["msg"] == "Couldn't find that app. (app ghost)"
    assert out["database"] is None and out["error_id"] is None and out["status"] == 404


def test_api_error_message_never_carries_the_key(run_module):
    def operation(ctx):  # errors are built after the client (which registers the key as a secret)
        raise APIError("boom with key hrku-supersecret-key-0000 inside", status=500, request_id="r1")

    out = run_module(module_main(operation=operation), {"app": "a", "api_key": "hrku-supersecret-key-0000"})
    assert "hrku-supersecret-key-0000" not in out["msg"]
    assert "Request-Id: r1" in out["msg"]


def test_timeout_error_carries_resource_and_last_status(run_module):
    exc = OperationTimeoutError("Timed out waiting.", resource="postgresql-x-1", last_status="preparing")
    out = run_module(module_main(operation=_raise(exc), database="REPLICA"), {"app": "a"})
    assert out.failed
    assert out["msg"] == "Timed out waiting. (app a, database REPLICA)"
    assert (out["resource"], out["last_status"]) == ("postgresql-x-1", "preparing")


def test_transfer_failure_carries_transfer_and_logs(run_module):
    exc = TransferFailedError("Backup b007 failed.", transfer="b007", logs=["pg_dump: error: out of disk"])
    out = run_module(module_main(operation=_raise(exc)), {"app": "a"})
    assert (out["transfer"], out["logs"]) == ("b007", ["pg_dump: error: out of disk"])


def test_validation_error(run_module):
    out = run_module(module_main(operation=_raise(ValidationError("Unknown setting x."))), {"app": "a"})
    assert out.failed and out["msg"] == "Unknown setting x. (app a)"
    assert "status" not in out.result


def test_value_error_from_the_core(run_module):
    out = run_module(module_main(operation=_raise(ValueError("hour must be 0-23"))), {"app": "a"})
    assert out.failed and out["msg"] == "hour must be 0-23" and out["app"] == "a"


def test_connection_failure_says_whether_it_may_have_applied(run_module):
    exc = ConnectionFailedError("Could not complete POST /apps/a/addons.", may_have_applied=True, request_id="r9")
    out = run_module(module_main(operation=_raise(exc)), {"app": "a"})
    assert out["msg"] == "Could not complete POST /apps/a/addons. (app a) [Request-Id: r9]"
    assert out["may_have_applied"] is True


def test_a_failure_after_a_write_reports_changed(run_module):
    def operation(ctx):
        ctx.wrote = True
        raise OperationTimeoutError("Timed out waiting.", resource="postgresql-x-1", last_status="creating")

    out = run_module(module_main(operation=operation), {"app": "a"})
    assert out.failed and out["changed"] is True


SECRET_URL = "postgres://u:malformed-secret-pw@db.example.invalid:5432/d1"


@pytest.fixture
def answering(monkeypatch):
    """Make the module's HTTP client answer every request with ``body`` and Request-Id ``req-body``."""

    def use(body):
        def handler(request):
            return httpx.Response(200, json=body, headers={"Request-Id": "req-body"})

        client = functools.partial(HerokuClient, transport=httpx.MockTransport(handler), env={})
        monkeypatch.setattr(heroku_pg, "HerokuClient", client)

    return use


def _no_traceback_no_secret(out):
    assert "exception" not in out.result and "Traceback" not in out["msg"]
    assert "malformed-secret-pw" not in json.dumps(out.result)


def test_malformed_api_answer_names_the_field_and_the_request_id(run_module, answering):
    """A body that does not fit its model: what was malformed and the Request-Id, not the value."""
    answering({"id": "01234567-89ab-cdef-0123-456789abcdef", "name": {"url": SECRET_URL}})
    out = run_module(module_main(operation=lambda ctx: ctx.api.get_app("myapp")), {"app": "myapp", "api_key": "k" * 20})
    assert out.failed
    assert out["msg"] == (
        "Unexpected answer from the Heroku API for App: name: Input should be a valid string (got dict) "
        "(app myapp) [Request-Id: req-body]"
    )
    assert (out["model"], out["problems"], out["request_id"]) == (
        "App", ["name: Input should be a valid string (got dict)"], "req-body"
    )
    _no_traceback_no_secret(out)


def test_pydantic_error_outside_the_parser_is_a_malformed_answer_too(run_module, answering):
    answering({"unexpected": SECRET_URL})

    def operation(ctx):
        return App.model_validate(ctx.api.client.get("/apps/myapp"))  # not through models.parse

    out = run_module(module_main(operation=operation), {"app": "myapp", "api_key": "k" * 20})
    assert out.failed
    assert out["msg"].startswith("Unexpected answer from the Heroku API for App: ")
    assert set(out["problems"]) == {"id: Field required", "name: Field required"}
    assert out["msg"].endswith("(app myapp) [Request-Id: req-body]")
    _no_traceback_no_secret(out)


def test_unexpected_response_keeps_its_own_request_id(run_module):
    exc = UnexpectedResponseError("Transfer", ["num: Input should be a valid integer (got str)"], request_id="req-own")
    out = run_module(module_main(operation=_raise(exc), database="DATABASE_URL"), {"app": "a"})
    assert out["msg"] == (
        "Unexpected answer from the Heroku API for Transfer: num: Input should be a valid integer (got str) "
        "(app a, database DATABASE_URL) [Request-Id: req-own]"
    )
    _no_traceback_no_secret(out)


def test_missing_optional_library_from_the_core(run_module):
    out = run_module(module_main(operation=_raise(MissingPsycopgError(reason="to read pg_stat_statements"))), {"app": "a"})
    assert out.failed
    assert "Failed to import the required Python library (psycopg)" in out["msg"]
    assert "to read pg_stat_statements" in out["msg"]
    assert out["msg"].endswith("Install it with: pip install 'herokupg[postgres]'.")
    assert "exception" not in out.result  # raised by the core, not an ImportError of the module's


def test_require_psycopg_fails_before_any_request(run_module, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # "import psycopg" raises ImportError

    def main():
        module = HerokuModule({})
        module.require_psycopg("for write fencing (fence: true)")
        module.run(lambda ctx: pytest.fail("ran without psycopg"))

    out = run_module(main, {"app": "a"})
    assert out.failed and "(psycopg)" in out["msg"] and "for write fencing (fence: true)" in out["msg"]
    assert "herokupg[postgres]" in out["msg"] and "ModuleNotFoundError" in out["exception"]
    assert (out["app"], out["changed"]) == ("a", False)


def test_the_ansible_surface_is_forwarded(run_module):
    seen = {}

    def main():
        module = HerokuModule({"x": dict(type="int")})
        seen["check_mode"] = module.check_mode
        module.warn("careful")
        if module.params["x"]:
            module.fail_json(msg="x must be 0")
        module.exit_json(changed=False, x=module.params["x"])

    out = run_module(main, {"app": "a", "x": 0}, check_mode=True)
    assert not out.failed and out.result == {"changed": False, "x": 0} and seen["check_mode"] is True
    assert out.warnings == ["careful"]
    failed = run_module(main, {"app": "a", "x": 1})
    assert failed.failed and failed.result == {"msg": "x must be 0", "app": "a", "changed": False}


# -- without the herokupg library -----------------------------------------------------------------


@contextlib.contextmanager
def herokupg_missing():
    """Re-import the adapter while ``import herokupg`` fails, then restore it."""
    saved = {name: mod for name, mod in sys.modules.items() if name == "herokupg" or name.startswith("herokupg.")}
    try:
        for name in saved:
            sys.modules[name] = None
        sys.modules["herokupg"] = None
        importlib.reload(heroku_pg)
        yield
    finally:
        for name in list(sys.modules):
            if name == "herokupg" or name.startswith("herokupg."):
                del sys.modules[name]
        sys.modules.update(saved)
        importlib.reload(heroku_pg)


def test_missing_library(run_module):
    with herokupg_missing():
        assert heroku_pg.HEROKUPG_IMPORT_ERROR
        out = run_module(module_main(), {"app": "a"})
    assert out.failed
    assert "Failed to import the required Python library (herokupg)" in out["msg"]
    assert "to talk to the Heroku API" in out["msg"]
    assert "ImportError" in out["exception"] or "ModuleNotFoundError" in out["exception"]
    assert heroku_pg.HEROKUPG_IMPORT_ERROR is None  # restored
    assert run_module(module_main(), {"app": "a"}).failed is False


# -- import cost ------------------------------------------------------------------------------------


def test_import_loads_httpx_without_its_command_line_client_and_builds_no_model():
    """A module run imports httpx and pydantic, not httpx's optional CLI (click, rich, pygments:
    a quarter of httpx's import time), and no model builds its validator before it is used."""
    code = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('adapter', sys.argv[1])\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "assert 'herokupg.client' in sys.modules, 'herokupg was not imported'\n"
        "assert {'httpx', 'pydantic'} <= set(sys.modules), sorted(sys.modules)\n"
        "assert 'httpx._main' not in sys.modules and 'rich' not in sys.modules, sorted(sys.modules)\n"
        "from herokupg.models import DatabaseInfo, Transfer\n"
        "assert not DatabaseInfo.__pydantic_complete__ and not Transfer.__pydantic_complete__\n"
    )
    subprocess.run([sys.executable, "-c", code, heroku_pg.__file__], check=True)
