"""Idempotent Heroku Postgres operations: pure functions of (context, desired state) -> Result.

Each operation reads the current state, decides what to change, and either changes it or (in
check mode) only records the requests it would send. The Ansible modules are thin callers.
"""
