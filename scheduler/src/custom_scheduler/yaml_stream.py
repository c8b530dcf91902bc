"""Objects of a YAML stream, one at a time, without building a whole large document first.

``yaml.load_all`` composes a complete node graph per document before constructing anything, so one
``kind: List`` document with 50,000 pods costs several hundred MiB. This reads the parser's events
(LibYAML) instead and hands out each item of a top-level list, or of a document's top-level ``items``,
as soon as it is complete. Scalars are resolved and constructed by PyYAML's own safe resolver and
constructors, anchors, aliases and ``<<`` merge keys work, so the values are those ``yaml.safe_load``
would give.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

_MERGE_TAG: Final = "tag:yaml.org,2002:merge"
_RESOLVER: Final = Resolver()
_CONSTRUCTOR: Final = SafeConstructor()
_NO_KEY: Final = object()


@dataclass(frozen=True, slots=True)
class Item:
    """One object of the stream; ``list_kind`` is the ``kind`` of the list document it came from, if any."""

    value: Any
    list_kind: str | None


@dataclass(slots=True)
class _Frame:
    container: dict[Any, Any] | list[Any]
    streamed: bool = False
    key: Any = field(default=_NO_KEY)


def items(raw: bytes) -> Iterator[Item]:
    """Every object in order: the items of top-level lists and ``items`` lists one by one, any other
    document whole. Raises ``yaml.YAMLError`` for malformed YAML."""
    stack: list[_Frame] = []
    anchors: dict[str, Any] = {}
    root: list[Any] = []
    root_streamed = False
    for event in yaml.parse(raw, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            root.clear()
            root_streamed = False
            anchors.clear()
            continue
        if isinstance(event, yaml.DocumentEndEvent):
            if root and not root_streamed and root[0] is not None:
                yield Item(root[0], None)
            continue
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            container: dict[Any, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
            if event.anchor is not None:
                anchors[event.anchor] = container
            streamed = isinstance(container, list) and _streams(stack)
            root_streamed = root_streamed or streamed
            stack.append(_Frame(container, streamed))
            continue
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            value = stack.pop().container
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise yaml.YAMLError(f"found undefined alias {event.anchor!r}")
            value = anchors[event.anchor]
        elif isinstance(event, yaml.ScalarEvent):
            value = _scalar(event.tag, event.value, event.implicit, event.style)
            if event.anchor is not None:
                anchors[event.anchor] = value
        else:
            continue
        if not stack:
            root.append(value)
            continue
        frame = stack[-1]
        if frame.streamed:
            yield Item(value, _list_kind(stack))
        elif isinstance(frame.container, list):
            frame.container.append(value)
        elif frame.key is _NO_KEY:
            frame.key = value
        else:
            _set(frame.container, frame.key, value)
            frame.key = _NO_KEY


def _streams(stack: list[_Frame]) -> bool:
    """A sequence streams when it is a document's root, or the ``items`` value of the root mapping."""
    if not stack:
        return True
    return len(stack) == 1 and isinstance(stack[0].container, dict) and stack[0].key == "items"


def _list_kind(stack: list[_Frame]) -> str | None:
    if len(stack) == 2 and isinstance(stack[0].container, dict):
        kind = stack[0].container.get("kind")
        return kind if isinstance(kind, str) else None
    return None


def _set(mapping: dict[Any, Any], key: Any, value: Any) -> None:
    try:
        if isinstance(key, _MergeKey):
            for source in value if isinstance(value, list) else [value]:
                for merged_key, merged_value in source.items():
                    mapping.setdefault(merged_key, merged_value)
        else:
            mapping[key] = value
    except (TypeError, AttributeError):
        raise yaml.YAMLError(f"unsupported mapping key or merge value near key {key!r}") from None


class _MergeKey:
    """The ``<<`` key of a mapping: its value's entries are merged in, explicit keys winning."""

    def __hash__(self) -> int:
        return id(self)


@lru_cache(maxsize=65536)
def _scalar(tag: str | None, value: str, implicit: tuple[bool, bool], style: str | None) -> Any:
    """A scalar as PyYAML's SafeLoader constructs it (cached: manifests repeat the same scalars)."""
    if tag is None or tag == "!":
        tag = _RESOLVER.resolve(ScalarNode, value, implicit)  # type: ignore[no-untyped-call]
    if tag == _MERGE_TAG:
        return _MergeKey()
    constructor = _CONSTRUCTOR.yaml_constructors.get(tag)
    if constructor is None:
        raise yaml.YAMLError(f"could not determine a constructor for the tag {tag!r}")
    return constructor(_CONSTRUCTOR, ScalarNode(tag, value, style=style))
