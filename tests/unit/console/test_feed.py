"""The console's change hub: every open page gets every batch; a page that fell behind gets a reset instead of
an unbounded backlog."""

from __future__ import annotations

import asyncio
from pathlib import Path

from digitalhub_runtime_python.console.feed import BACKLOG, ChangeHub
from digitalhub_runtime_python.stores.changes import RESET, Change
from digitalhub_runtime_python.stores.local import LocalStore


def test_batches_fan_out_and_a_page_behind_gets_a_reset(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)

    async def scenario() -> None:
        hub = ChangeHub(store.changes)  # not started: the test hands it batches
        async with hub.subscribe(hub.cursor) as reader, hub.subscribe(hub.cursor) as idle:  # idle reads nothing
            for i in range(BACKLOG + 5):
                hub._publish([Change("updated", f"store://p/run/python+run/r:{i}")])
                if i < 3:
                    assert (await reader.get())[0].key.endswith(f":{i}")
            for queue, size in ((reader, 2), (idle, 5)):  # past BACKLOG batches: a reset, then what came after
                batches = [queue.get_nowait() for _ in range(queue.qsize())]
                assert len(batches) == size and batches[0] == [RESET]
                assert batches[-1][0].key.endswith(f":{BACKLOG + 4}")
        assert not hub._subscribers

    asyncio.run(scenario())
    store.close()


def test_a_page_subscribing_from_its_cursor_gets_what_it_missed_first(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)

    async def scenario() -> None:
        hub = ChangeHub(store.changes)
        rendered = hub.cursor
        missed = [Change("updated", f"store://p/run/python+run/r:{i}") for i in range(3)]
        for change in missed:
            hub._publish([change])
        async with hub.subscribe(rendered) as queue:
            assert [queue.get_nowait() for _ in range(queue.qsize())] == [[change] for change in missed]
        async with hub.subscribe(hub.cursor) as queue:
            assert queue.empty()
        for since in (None, "elsewhere-0", rendered.replace("-0", "-99")):  # none, another hub's, not reached
            async with hub.subscribe(since) as queue:
                assert queue.get_nowait() == [RESET] and queue.empty()
        for i in range(BACKLOG):
            hub._publish([Change("updated", f"store://p/run/python+run/r:{i}")])
        async with hub.subscribe(rendered) as queue:  # more than is kept was missed
            assert queue.get_nowait() == [RESET] and queue.empty()

    asyncio.run(scenario())
    store.close()
