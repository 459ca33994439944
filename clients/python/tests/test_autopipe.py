"""Automatic pipelining (redis_account.autopipe, on by default): what concurrent tasks send in one
event-loop turn leaves as one pipeline on one connection, and each call still gets exactly the
result, error and stored effect it gets when sent alone."""
from __future__ import annotations

import asyncio
import json
import logging

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError

from conftest import free_port
from redis_account import AccountManager, NoAccount, InvalidDocument


async def connections_named(r, name: str) -> int:
    return sum(1 for c in await r.client_list() if c.get("name") == name)


@pytest.mark.parametrize("auto", [True, False])
async def test_concurrent_calls_share_one_connection(server, r, auto):
    # A fresh client so its pool starts empty: the connections it opens are the ones the calls needed.
    own = aioredis.Redis(port=server.port, decode_responses=True, client_name="autopipe")
    try:
        am = AccountManager(own, auto_pipeline=auto, auto_pipeline_batch=64)
        await asyncio.gather(*[am.create_account(i, {"state": "exploration"}) for i in range(50)])
        out = await asyncio.gather(*[am.damage(i, i + 1) for i in range(50)])
        assert out == [(99 - i, i + 1) for i in range(50)]
        used = await connections_named(r, "autopipe")
        if auto:
            assert used == 1  # both rounds of 50 went out as one pipeline each, on one connection
        else:
            assert used > 1  # a connection per call in flight
        docs = [json.loads(d) for d in await r.execute_command("JSON.MGET", *[f"ac:{i}" for i in range(50)], "$")]
        assert [d[0]["stats"]["hp"]["cur"] for d in docs] == [99 - i for i in range(50)]
    finally:
        await own.aclose()


async def test_batches_are_bounded(r):
    sizes = []
    real = r.pipeline

    def spy(*args, **kwargs):
        pipe = real(*args, **kwargs)
        execute = pipe.execute

        async def counted(*a, **k):
            sizes.append(len(pipe))
            return await execute(*a, **k)

        pipe.execute = counted
        return pipe

    r.pipeline = spy
    am = AccountManager(r)  # the default: pipelines of at most 16 commands
    await am.create_account(1, {"state": "exploration"})
    out = await asyncio.gather(*[am.get_state(1) for i in range(600)])
    assert out == ["exploration"] * 600
    assert sizes == [16] * 37 + [8]
    with pytest.raises(ValueError):
        AccountManager(r, auto_pipeline_batch=0)


async def test_each_call_in_a_batch_gets_its_own_error(r, caplog):
    caplog.set_level(logging.WARNING, logger="redis_account")
    strict = AccountManager(r, raise_errors=True)
    await strict.create_account(1, {"bio": {"name": "A"}})
    out = await asyncio.gather(
        strict.damage(1, 10),
        strict.damage(404, 10),  # no such account
        strict.update_bio_field(1, "name", 5),  # refused by the schema
        strict.heal(1, 3),
        strict.get_bio(404),  # a read of a missing account: None, never an error
        return_exceptions=True)
    assert out[0] == (90, 10) and out[3] == (93, 3) and out[4] is None
    assert isinstance(out[1], NoAccount) and str(out[1]).startswith("NOACCOUNT")
    assert isinstance(out[2], InvalidDocument) and str(out[2]).startswith("SCHEMA bio.name must be a string")
    doc = json.loads(await r.execute_command("JSON.GET", "ac:1"))
    assert (doc["stats"]["hp"]["cur"], doc["bio"]["name"]) == (93, "A")
    # The original's mode: the same batch logs the two refusals and returns the original's values.
    compat = AccountManager(r)
    out = await asyncio.gather(compat.damage(1, 1), compat.update_bio(404, {"name": "x"}),
                               compat.update_bio_field(1, "name", 5), compat.get_gear_score(404))
    assert out == [(92, 1), None, None, 0]
    assert sum("status=failed" in rec.getMessage() for rec in caplog.records) == 2


async def test_one_tasks_calls_keep_their_order(am):
    await asyncio.gather(*[am.create_account(i, {}) for i in range(20)])

    async def player(i: int) -> list:
        seen = []
        for _ in range(10):
            seen.append(await am.increment_metric(i, "steps", 1))
        await am.set_state(i, f"s{i}")
        seen.append(await am.get_state(i))
        return seen

    out = await asyncio.gather(*[player(i) for i in range(20)])
    assert out == [list(range(1, 11)) + [f"s{i}"] for i in range(20)]


async def test_a_caller_cancelled_before_the_batch_leaves_sends_nothing(am, r):
    await am.create_account(1, {})
    tasks = [asyncio.create_task(am.increment_metric(1, f"m{i}", 1)) for i in range(10)]
    await asyncio.sleep(0)  # every task has queued its command; the batch has not left yet
    tasks[4].cancel()
    out = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(out[4], asyncio.CancelledError)
    assert [o for i, o in enumerate(out) if i != 4] == [1] * 9
    metrics = json.loads(await r.execute_command("JSON.GET", "ac:1", "$.metrics"))[0]
    assert "m4" not in metrics and all(metrics[f"m{i}"] == 1 for i in range(10) if i != 4)


async def test_a_lost_connection_fails_every_caller_of_the_batch():
    dead = aioredis.Redis(port=free_port(), decode_responses=True)
    am = AccountManager(dead, raise_errors=True)
    out = await asyncio.gather(*[am.get_state(i) for i in range(5)], return_exceptions=True)
    assert all(isinstance(o, RedisConnectionError) for o in out)
    await dead.aclose()


async def test_a_bad_argument_fails_only_its_own_call(am, r):
    await asyncio.gather(am.create_account(1, {}), am.create_account(2, {}))
    out = await asyncio.gather(am.move(1, None), am.increment_metric(2, "m", 1), return_exceptions=True)
    assert isinstance(out[0], DataError) and out[1] == 1
    assert json.loads(await r.execute_command("JSON.GET", "ac:2", "$.metrics.m")) == [1]


async def test_a_cluster_client_sends_each_call_alone(rc):
    # redis-py's cluster pipeline, on a node's failure, sends the whole batch again, commands that
    # already ran on other nodes included: a RedisCluster is never pipelined automatically.
    pipelines = []
    real = rc.pipeline
    rc.pipeline = lambda *a, **k: pipelines.append(1) or real(*a, **k)
    am = AccountManager(rc, raise_errors=True)
    await asyncio.gather(*[am.create_account(i, {"state": "exploration"}) for i in range(40)])
    out = await asyncio.gather(*[am.damage(i, i + 1) for i in range(40)], am.damage(404, 1), return_exceptions=True)
    assert out[:40] == [(99 - i, i + 1) for i in range(40)]
    assert isinstance(out[40], NoAccount)
    assert await asyncio.gather(*[am.get_account_field(i, "stats.hp.cur") for i in range(40)]) == \
        [99 - i for i in range(40)]
    assert pipelines == []
