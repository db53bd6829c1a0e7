# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Authentication and connection options shared by every module.
    DOCUMENTATION = r"""
options:
  app:
    description:
      - Name (or id) of the Heroku app that owns or has attached the database.
    type: str
    required: true
  api_key:
    description:
      - Heroku API key (an OAuth token, as C(heroku auth:token) prints).
      - When not set, the E(HEROKU_API_KEY) environment variable is used, then the password of the
        C(api.heroku.com) machine in C(~/.netrc), which C(heroku login) writes.
    type: str
  api_url:
    description:
      - Base URL of the Heroku Platform API.
      - When not set, E(HEROKU_API_URL) is used, else U(https://api.heroku.com).
      - Point it at the local sandbox (C(herokupg sandbox env) prints the URL) to run without Heroku.
    type: str
  data_api_url:
    description:
      - Base URL of the Heroku Data API, which serves Heroku Postgres endpoints.
      - When not set, E(HEROKU_DATA_API_URL) is used; else, when O(api_url) is not a Heroku host,
        the same base URL as O(api_url) (the sandbox serves both); else U(https://api.data.heroku.com).
    type: str
  timeout:
    description:
      - Seconds to wait for each HTTP response.
    type: float
    default: 30
  retries:
    description:
      - How many times one request is repeated after a failure, with jittered exponential backoff
        (up to 0.5 seconds before the first repeat, doubling, at most 20 seconds).
      - Any request is repeated when it never reached the server (the connection was refused or
        could not be made in time).
      - After a failure that may have reached the server (a read timeout, a dropped connection) and
        after a 5xx answer, only idempotent requests are repeated - C(GET), C(PUT), C(DELETE) and the
        C(POST)s that only look something up, sign a backup URL, cancel a transfer or open a log
        session. A request that creates or changes something (add-on, attachment, backup, restore,
        schedule, settings) is never blindly repeated; the module reads the state again instead.
      - Not retried - certificate errors, a proxy that cannot be used, redirect loops, 4xx answers.
      - Answers 429 (the account's request budget is spent) have their own budget, O(rate_limit_retries),
        and do not count here.
    type: int
    default: 3
  rate_limit_retries:
    description:
      - How many times a request answered 429 (Too Many Requests) is repeated, whatever its method - Heroku
        refused it before doing anything.
      - Each repeat waits as long as the answer's C(Retry-After) asks (at most 300 seconds), else backs
        off (jittered) from up to 0.8 seconds (the time Heroku takes to refill one request), doubling,
        at most 20 seconds.
      - Separate from O(retries) because Ansible forks share the account's budget, so each may have to
        wait several refills. V(0) fails at the first 429.
    type: int
    default: 10
    version_added: "0.2.0"
  validate_certs:
    description:
      - Whether to verify TLS certificates (of the API hosts, log streams and backup downloads).
      - Certificates are checked as httpx checks them, against the CA bundle named by the
        E(SSL_CERT_FILE) or E(SSL_CERT_DIR) environment variable when set, else against certifi's bundle.
    type: bool
    default: true
requirements:
  - python >= 3.11
  - herokupg, the collection's Python core, on the controller. It is not on PyPI yet, so never install
    that name from a public index; install the wheel released with the collection
    (C(pip install herokupg-<version>-py3-none-any.whl), which C(make package) builds), or
    C(pip install ./pycore) from a clone of the collection's repository.
  - httpx (>= 0.27, < 1) and pydantic (>= 2.6, < 3), which herokupg brings with it.
notes:
  - "These modules talk to the Heroku API from the controller: run them on C(localhost) or with
    C(delegate_to: localhost)."
  - "Every request goes through httpx, so proxies come from the controller's environment as httpx
    reads them: E(HTTPS_PROXY), E(HTTP_PROXY), E(ALL_PROXY) (C(http://) or C(https://) proxy URLs,
    credentials included; C(socks5://) needs C(httpx[socks])) and E(NO_PROXY)."
  - "All modules belong to the action group C(herokuops.postgres.heroku), so the connection options can
    be set once with C(module_defaults: {group/herokuops.postgres.heroku: {...}})."
"""

    WAIT = r"""
options:
  wait:
    description:
      - Whether to wait until the operation has finished (the database is available and caught up,
        or the transfer has completed).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait before failing with the resource's id and its last status. A rerun picks up
        the existing resource and goes on waiting.
    type: int
    default: 1800
  poll_interval:
    description:
      - Longest pause, in seconds, between two status checks while waiting. Polling starts faster
        and backs off up to this value.
    type: float
    default: 5
"""

    ADDON_CONFIRM = r"""
options:
  confirm:
    description:
      - The app name, given when Heroku asks for a confirmation before it creates the add-on
        (HTTP 423 C(confirmation_required), as for apps in a Private Space or Shield). The
        request is then repeated with it, as the Heroku CLI's C(--confirm) does.
      - Without it such a request fails and says so; nothing is created.
      - Never needed to re-run a task, which finds the existing add-on by its attachment name.
    type: str
    version_added: "0.2.0"
"""
