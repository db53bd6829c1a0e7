"""Ansible callback for pycore/bench/ops_bench.py: per-task wall time, written as JSON.

Enabled with ANSIBLE_CALLBACK_PLUGINS=pycore/bench/callbacks ANSIBLE_CALLBACKS_ENABLED=task_times;
writes [{"task", "action", "seconds", "start", "end", "status"}, ...] to $BENCH_TASK_TIMES at the end
of the play.
Times are epoch seconds (start, end) and a monotonic duration (seconds).
A task's time runs from its start (v2_playbook_on_task_start) to its result on localhost.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_times
type: aggregate
short_description: per-task wall time as JSON (benchmarks only)
description: Writes each task's wall time to the file named by BENCH_TASK_TIMES.
requirements: [enable in configuration]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._started = {}
        self._records = []

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task._uuid] = (time.monotonic(), time.time())

    def _done(self, result, status):
        task = result._task
        started = self._started.get(task._uuid)
        if started is None:
            return
        self._records.append({
            "task": task.get_name(),
            "action": task.action,
            "seconds": time.monotonic() - started[0],
            "start": started[1],
            "end": time.time(),
            "status": status,
        })

    def v2_runner_on_ok(self, result, **kwargs):
        self._done(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._done(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._done(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_TASK_TIMES")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self._records, handle, indent=1)
