"""The plugin registry: plugin name -> factory. Registering a name twice is an error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypeAlias

    from custom_scheduler.config import SchedulerConfig
    from custom_scheduler.framework.interface import FilterPlugin, ScorePlugin

    FilterFactory: TypeAlias = Callable[[SchedulerConfig], FilterPlugin]
    ScoreFactory: TypeAlias = Callable[[SchedulerConfig], ScorePlugin]


class DuplicatePluginError(ValueError):
    """A plugin name was registered twice."""


class Registry:
    """Filter and score plugin factories by name, in registration order."""

    def __init__(self) -> None:
        self._filters: dict[str, FilterFactory] = {}
        self._scores: dict[str, ScoreFactory] = {}

    def register_filter(self, name: str, factory: FilterFactory) -> None:
        if name in self._filters:
            raise DuplicatePluginError(f"a filter plugin named {name} already exists")
        self._filters[name] = factory

    def register_score(self, name: str, factory: ScoreFactory) -> None:
        if name in self._scores:
            raise DuplicatePluginError(f"a score plugin named {name} already exists")
        self._scores[name] = factory

    def filter_names(self) -> Iterator[str]:
        return iter(self._filters)

    def score_names(self) -> Iterator[str]:
        return iter(self._scores)

    def new_filter(self, name: str, config: SchedulerConfig) -> FilterPlugin:
        if name not in self._filters:
            raise KeyError(f"no filter plugin named {name}")
        return self._filters[name](config)

    def new_score(self, name: str, config: SchedulerConfig) -> ScorePlugin:
        if name not in self._scores:
            raise KeyError(f"no score plugin named {name}")
        return self._scores[name](config)
