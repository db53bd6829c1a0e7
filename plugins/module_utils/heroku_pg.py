# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible side of every herokuops.postgres module.

Common options, the guarded import of the ``herokupg`` core, and the mapping of core results and
errors onto ``exit_json`` / ``fail_json``. No HTTP code lives here: modules call one operation of
``herokupg.ops`` through :meth:`HerokuModule.run`.
"""

from __future__ import annotations

import re
import traceback
from urllib.parse import parse_qsl, unquote, urlsplit

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

HEROKUPG_IMPORT_ERROR = None
try:
    from herokupg.api import HerokuAPI
    from herokupg.client import HerokuClient
    from herokupg.errors import APIError, HerokuPgError, OperationTimeoutError, TransferFailedError
    from herokupg.ops.base import Context, WaitOptions
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
    """An AnsibleModule with the common options, running one herokupg operation."""

    def __init__(self, argument_spec, waits=False, **kwargs):
        spec = common_argument_spec()
        if waits:
            spec.update(wait_argument_spec())
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        self.waits = waits
        self.module = _Module(argument_spec=spec, **kwargs)
        # Any option may hold a URL (a backup to restore, an API URL): its password and signature
        # parts are masked in invocation.module_args, the log file and every message.
        self.module.no_log_values.update(url_secrets(list(self.module.params.values())))
        if HEROKUPG_IMPORT_ERROR:
            self.module.fail_json(
                msg=missing_required_lib("herokupg", reason="to talk to the Heroku API"),
                exception=HEROKUPG_IMPORT_ERROR,
            )

    @property
    def params(self):
        return self.module.params

    def context(self):
        params = self.params
        if params["timeout"] <= 0:
            self.module.fail_json(msg="timeout must be more than 0 seconds, got %s." % params["timeout"])
        if params["retries"] < 0:
            self.module.fail_json(msg="retries must be 0 or more, got %s." % params["retries"])
        client = HerokuClient(
            params["api_key"],
            api_url=params["api_url"],
            data_api_url=params["data_api_url"],
            timeout=params["timeout"],
            retries=params["retries"],
            validate_certs=params["validate_certs"],
        )
        wait = WaitOptions()
        if self.waits:
            wait = WaitOptions(
                enabled=params["wait"],
                timeout=float(params["wait_timeout"]),
                poll_interval=params["poll_interval"],
            )
        return Context(api=HerokuAPI(client), check_mode=self.module.check_mode, wait=wait)

    def hide(self, value):
        """Mark a secret the user asked for, so Ansible masks it in logs and callbacks."""
        if value:
            self.module.no_log_values.add(value)

    def run(self, operation, database=None):
        """Run ``operation(context) -> Result`` and exit with its outcome."""
        context = None
        try:
            context = self.context()
            result = operation(context)
        except HerokuPgError as exc:
            # A failure after a write (e.g. a wait that timed out) still changed the app.
            self.fail(exc, database, changed=bool(context and context.wrote))
        except ValueError as exc:  # invalid option combinations caught by the core
            self.module.fail_json(msg=str(exc), app=self.params["app"], changed=bool(context and context.wrote))
        for warning in result.warnings:
            self.module.warn(warning)
        output = dict(changed=result.changed)
        output.update(result.data)
        output["requests"] = [request.as_dict() for request in result.requests]
        if self.module._diff and (result.before is not None or result.after is not None):
            output["diff"] = result.diff
        self.module.exit_json(**output)

    def fail(self, exc, database=None, changed=False):
        app = self.params["app"]
        where = "app %s" % app
        if database:
            where += ", database %s" % database
        details = dict(app=app, database=database, changed=changed)
        msg = "%s (%s)" % (exc.message, where)
        if isinstance(exc, APIError):
            details.update(status=exc.status, error_id=exc.error_id, request_id=exc.request_id)
            extras = ["Error ID: %s" % exc.error_id] if exc.error_id else []
            if exc.request_id:
                extras.append("Request-Id: %s" % exc.request_id)
            if extras:
                msg += " [%s]" % "; ".join(extras)
        if isinstance(exc, OperationTimeoutError):
            details.update(resource=exc.resource, last_status=exc.last_status)
        if isinstance(exc, TransferFailedError):
            details.update(transfer=exc.transfer, logs=exc.logs)
        self.module.fail_json(msg=msg, **details)
