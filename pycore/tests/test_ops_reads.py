"""Context.reads: an operation's state reads are sent once, and read anew after a write or per poll."""

from __future__ import annotations

from herokupg_sandbox.threaded import RunningSandbox
from replication_helpers import FAST, seed

from herokupg.api import HerokuAPI
from herokupg.ops.base import Context, PlannedRequest, Result

WRITE = PlannedRequest("POST", "/somewhere")


def sent(api: HerokuAPI) -> int:
    return api.client.request_count


def test_reads_are_sent_once(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    addon = seed(sandbox)
    reads = Context(api=api).reads
    before = sent(api)
    for _ in range(2):
        assert [a.name for a in reads.list_attachments("shop")] == ["DATABASE"]
        assert reads.database(addon["id"]) is not None
        assert reads.database("00000000-0000-4000-8000-000000000000") is None  # a 404, remembered too
    assert sent(api) - before == 3


def test_a_write_forgets_what_was_read(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed(sandbox)
    checking = Context(api=api, check_mode=True)
    checking.reads.list_attachments("shop")
    checking.write(Result(), WRITE, lambda: None)  # not sent: nothing changed
    before = sent(api)
    checking.reads.list_attachments("shop")
    assert sent(api) == before

    ctx = Context(api=api)
    ctx.reads.list_attachments("shop")
    ctx.write(Result(), WRITE, lambda: None)
    before = sent(api)
    ctx.reads.list_attachments("shop")
    assert sent(api) == before + 1


def test_each_poll_reads_anew_and_the_last_answer_stays(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    addon = seed(sandbox)
    ctx = Context(api=api, wait=FAST)
    polls: list[int] = []

    def probe() -> tuple[bool, str]:
        polls.append(sent(api))
        ctx.reads.database(addon["id"])
        return len(polls) == 3, "polled"

    ctx.wait_until(probe, resource="DATABASE", goal="be polled three times")
    after = sent(api)
    assert [b - a for a, b in zip(polls, [*polls[1:], after], strict=True)] == [1, 1, 1]
    ctx.reads.database(addon["id"])
    assert sent(api) == after
