"""The one byte budget of requests held at once (gateway/infra/budget.py)."""
import asyncio

import pytest

from gateway.infra.budget import ByteBudget, OverBudget


def test_per_client_share_and_total():
    budget = ByteBudget(total=100, largest=30)
    assert budget.per_client == 50
    a = budget.hold(30, "a")
    budget.hold(20, "a")
    with pytest.raises(OverBudget, match="this client"):
        budget.hold(1, "a")
    budget.hold(40, "b")
    with pytest.raises(OverBudget, match="the service"):
        budget.hold(11, "c")
    a.shrink(10)
    assert budget.held_by("a") == 30 and budget.in_use == 70
    a.release()
    a.release()  # once only
    assert budget.held_by("a") == 20 and budget.in_use == 60


def test_the_largest_request_always_fits_one_client():
    assert ByteBudget(total=100, largest=80).per_client == 80


async def test_waiting_for_room():
    budget = ByteBudget(total=100, largest=50)
    first = budget.hold(50, "a")
    waiting = asyncio.create_task(budget.hold_within(50, "a", 5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    first.release()
    second = await asyncio.wait_for(waiting, 1)
    assert second.size == 50 and budget.held_by("a") == 50
    with pytest.raises(OverBudget):
        await budget.hold_within(50, "a", 0.05)


def test_a_hold_grows_to_its_request_only_with_room():
    budget = ByteBudget(total=100, largest=50)
    a = budget.hold(10, "a")
    a.resize(40)
    assert budget.held_by("a") == 40 and budget.in_use == 40
    with pytest.raises(OverBudget, match="this client"):
        a.resize(51)
    assert a.size == 40 and budget.in_use == 40  # unchanged when refused
    a.resize(5)
    assert budget.in_use == 5
    a.release()
    a.resize(30)  # released: nothing more taken
    assert budget.in_use == 0
