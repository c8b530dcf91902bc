"""Plans shared by the add-on tests: each stack shape is planned once per session."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.infra.addons.support import STACKS, plan_of
from tests.infra.stacks import Plan


@pytest.fixture(scope="session")
def planned() -> Callable[[str], Plan]:
    """The plan of ``STACKS[case]``, made once."""
    cache: dict[str, Plan] = {}

    def get(case: str) -> Plan:
        if case not in cache:
            cache[case] = plan_of(STACKS[case]())
        return cache[case]

    return get
