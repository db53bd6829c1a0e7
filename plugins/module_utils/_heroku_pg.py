# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Internal to the herokuops.postgres collection, not a public API: it may change in any release.
"""The Ansible side of every herokuops.postgres module.

Common options, the guarded import of the ``herokupg`` core, and the one place where core results
and errors become ``exit_json`` / ``fail_json``. No HTTP code lives here: a module builds a
:class:`HerokuModule`, calls one operation of ``herokupg.ops`` through :meth:`HerokuModule.run`,
and otherwise uses only what :class:`HerokuModule` forwards (``params``, ``check_mode``, ``warn``,
``fail_json``, ``exit_json``) and ``require_psycopg``.
"""

from __future__ import annotations

import re
import traceback
from urllib.parse import parse_qsl, unquote, urlsplit

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

HEROKUPG_IMPORT_ERROR = None
try:
    from pydantic import ValidationError as PydanticValidationError

    from herokupg.api import HerokuAPI
    from herokupg.client import HerokuClient
    from herokupg.errors import (
        APIError,
        ConnectionFailedError,
        HerokuPgError,
        MissingLibraryError,
        OperationTimeoutError,
        TransferFailedError,
        UnexpectedResponseError,
        validation_problems,
    )
    from herokupg.ops.base import Context, WaitOptions
    from herokupg.pgconnect import MissingPsycopgError
except ImportError:
    HEROKUPG_IMPORT_ERROR = traceback.format_exc()


def common_argument_spec():
    """Options every module takes (documented in the herokuops.postgres.heroku doc fragment)."""
    return dict(
        app=dict(type="str", required=True),
        api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["HEROKU_API_KEY"])),
        api_url=dict(type="str", fallback=(env_fallback, ["HEROKU_API_URL"])),
        data_api_url=dict(type="str", fallback=(env_fallback, ["HEROKU_DATA_API_URL"])),
        timeout=dict(type="float", default=30),
        retries=dict(type="int", default=3),
        rate_limit_retries=dict(type="int", default=10),
        validate_certs=dict(type="bool", default=True),
    )


def wait_argument_spec():
    """Options of modules that wait for a long operation (the WAIT doc fragment)."""
    return dict(
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        poll_interval=dict(type="float", default=5),
    )


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
# Query parameters that carry a credential: pre-signed URLs (X-Amz-Signature, X-Amz-Security-Token,
# Azure's sig, Google's X-Goog-Signature), tokens, keys and passwords.
_SECRET_PARAMETER = re.compile(
    r"(?:^|[-_.])(?:sig|signature|token|credential|secret|pass|password|passwd|key|apikey|auth)$", re.I
)


def url_secrets(value):
    """The password and signature parts of every URL in an option value (a string, or the strings
    in a list or dict), raw and percent-decoded: what Ansible must mask wherever it prints."""
    found = set()
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for item in value:
            found.update(url_secrets(item))
        return found
    if not isinstance(value, str):
        return found
    for match in _URL.finditer(value):
        try:
            parts = urlsplit(match.group(0))
        except ValueError:
            continue
        userinfo = parts.netloc.rpartition("@")[0]
        if ":" in userinfo:
            found.add(userinfo.partition(":")[2])
        for pair in parts.query.split("&"):
            name, raw = pair.split("=", 1) if "=" in pair else (pair, "")
            if raw and _SECRET_PARAMETER.search(unquote(name)):
                found.add(raw)
        for name, decoded in parse_qsl(parts.query):
            if decoded and _SECRET_PARAMETER.search(name):
                found.add(decoded)
    found.update([unquote(secret) for secret in found])
    found.discard("")
    return found


class _Module(AnsibleModule):
    """AnsibleModule that masks the secrets of URL-valued options in everything it logs, from the
    invocation it records before the module runs (syslog/journal) to its result."""

    def log(self, msg, log_args=None):
        self.no_log_values.update(url_secrets(list(self.params.values())))
        super(_Module, self).log(msg, log_args=log_args)


class HerokuModule:
    """An AnsibleModule with the common options, running one herokupg operation.

    Modules use this object only (never the AnsibleModule behind it): every way out of a module,
    success or failure, goes through :meth:`run`, :meth:`fail_json` or :meth:`exit_json` here.
    """

    def __init__(self, argument_spec, waits=False, **kwargs):
        spec = common_argument_spec()
        if waits:
            spec.update(wait_argument_spec())
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        self.waits = waits
        self._module = _Module(argument_spec=spec, **kwargs)
        self._context = None
        # Any option may hold a URL (a backup to restore, an API URL): its password and signature
        # parts are masked in invocation.module_args, the log file and every message.
        self._module.no_log_values.update(url_secrets(list(self._module.params.values())))
        if HEROKUPG_IMPORT_ERROR:
            self._module.fail_json(
                msg=missing_required_lib("herokupg", reason="to talk to the Heroku API"),
                exception=HEROKUPG_IMPORT_ERROR,
            )

    # -- the AnsibleModule surface modules use ------------------------------------------------

    @property
    def params(self):
        return self._module.params

    @property
    def check_mode(self):
        return self._module.check_mode

    def warn(self, warning):
        self._module.warn(warning)

    def exit_json(self, **kwargs):
        self._module.exit_json(**kwargs)

    def fail_json(self, msg, **kwargs):
        """Fail naming the app (``app`` in the result); ``changed`` if the operation wrote already."""
        kwargs.setdefault("app", self.params["app"])
        kwargs.setdefault("changed", bool(self._context and self._context.wrote))
        self._module.fail_json(msg=msg, **kwargs)

    def require_psycopg(self, reason):
        """Fail at once, before any request, when psycopg 3 (the ``postgres`` extra) is missing."""
        try:
            import psycopg  # noqa: F401  pylint: disable=unused-import
        except ImportError:
            self.fail(MissingPsycopgError(reason=reason), exception=traceback.format_exc())

    # -- running an operation ------------------------------------------------------------------

    def context(self):
        params = self.params
        if params["timeout"] <= 0:
            self.fail_json(msg="timeout must be more than 0 seconds, got %s." % params["timeout"])
        for option in ("retries", "rate_limit_retries"):
            if params[option] < 0:
                self.fail_json(msg="%s must be 0 or more, got %s." % (option, params[option]))
        client = HerokuClient(
            params["api_key"],
            api_url=params["api_url"],
            data_api_url=params["data_api_url"],
            timeout=params["timeout"],
            retries=params["retries"],
            rate_limit_retries=params["rate_limit_retries"],
            validate_certs=params["validate_certs"],
        )
        wait = WaitOptions()
        if self.waits:
            wait = WaitOptions(
                enabled=params["wait"],
                timeout=float(params["wait_timeout"]),
                poll_interval=params["poll_interval"],
            )
        self._context = Context(api=HerokuAPI(client), check_mode=self.check_mode, wait=wait)
        return self._context

    def run(self, operation, database=None):
        """Run ``operation(context) -> Result`` and exit with its outcome."""
        try:
            result = operation(self.context())
        except (HerokuPgError, PydanticValidationError, ValueError) as exc:
            self.fail(exc, database)
        for warning in result.warnings:
            self.warn(warning)
        output = dict(changed=result.changed)
        output.update(result.data)
        output["requests"] = [request.as_dict() for request in result.requests]
        if self._module._diff and (result.before is not None or result.after is not None):
            output["diff"] = result.diff
        self.exit_json(**output)

    def fail(self, exc, database=None, exception=None):
        """Fail with what the user needs from a core error, and never a traceback or a secret.

        A failure after a write (a wait that timed out, say) still reports ``changed``. Only a
        missing library shows a traceback: ``exception``, the ImportError's, as Ansible does.
        """
        if isinstance(exc, PydanticValidationError):  # a model read outside herokupg.models.parse
            exc = UnexpectedResponseError(exc.title, validation_problems(exc))
        if isinstance(exc, MissingLibraryError):
            msg = "%s. Install it with: %s." % (missing_required_lib(exc.library, reason=exc.reason).rstrip("."), exc.install)
            if exception:
                self.fail_json(msg=msg, database=database, exception=exception)
            self.fail_json(msg=msg, database=database)
        if not isinstance(exc, HerokuPgError):  # invalid option combinations caught by the core
            self.fail_json(msg=str(exc), database=database)
        where = "app %s" % self.params["app"]
        if database:
            where += ", database %s" % database
        msg = "%s (%s)" % (exc.message, where)
        details = dict(database=database)
        extras = []
        if isinstance(exc, APIError):
            details.update(status=exc.status, error_id=exc.error_id, request_id=exc.request_id)
            if exc.error_id:
                extras.append("Error ID: %s" % exc.error_id)
            if isinstance(exc, ConnectionFailedError):
                details.update(may_have_applied=exc.may_have_applied)
        if isinstance(exc, UnexpectedResponseError):
            client = self._context.api.client if self._context else None
            request_id = exc.request_id or (client.last_request_id if client else None)
            details.update(request_id=request_id, model=exc.model, problems=exc.problems)
        if details.get("request_id"):
            extras.append("Request-Id: %s" % details["request_id"])
        if extras:
            msg += " [%s]" % "; ".join(extras)
        if isinstance(exc, OperationTimeoutError):
            details.update(resource=exc.resource, last_status=exc.last_status)
        if isinstance(exc, TransferFailedError):
            details.update(transfer=exc.transfer, logs=exc.logs)
        self.fail_json(msg=msg, **details)
