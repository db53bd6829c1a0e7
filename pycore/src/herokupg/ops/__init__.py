"""Idempotent Heroku Postgres operations: pure functions of (context, desired state) -> Result.

Each operation reads the current state, decides what to change, and either changes it or (in
check mode) only records the requests it would send. The Ansible modules are thin callers.

Only operations and what they alone share live here (the context and waiting in ``base``, the
``*_common`` helpers, the promotion's checks and write fence, the per-machine turns). Pure
policies (:mod:`herokupg.retention`), transfers of files (:mod:`herokupg.download`), direct
database connections (:mod:`herokupg.pgconnect`) and every HTTP connection
(:mod:`herokupg.client`) live beside the package.
"""
