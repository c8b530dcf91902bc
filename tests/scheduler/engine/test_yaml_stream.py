"""The streaming YAML reader gives exactly what ``yaml.safe_load_all`` gives, one object at a time."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from custom_scheduler import yaml_stream

DOCUMENTS = {
    "a single object": "kind: Pod\nmetadata: {name: a}\n",
    "several documents": "kind: Node\nmetadata: {name: n}\n---\nkind: Pod\nmetadata: {name: p}\n---\n",
    "scalars of every type": (
        "a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: \"x\"\ng: 0x10\n"
        "h: 2024-01-01\ni: .inf\nj: yes\nk: ''\nl: 1_000\n"
    ),
    "nested lists and maps": (
        "spec:\n  containers:\n  - name: c\n    ports: [{containerPort: 80}]\n  items: [1, 2]\n"
    ),
    "anchors and aliases": "base: &b {cpu: 100m}\nx: *b\nlist: [&v 1, *v]\n",
    "merge keys": "base: &b {cpu: 100m, memory: 1Gi}\nx:\n  <<: *b\n  cpu: 200m\ny: {cpu: 1, <<: [*b]}\n",
    "explicit tags": "a: !!str 123\nb: !!int '7'\n",
    "empty documents are skipped": "---\n---\nkind: Pod\n---\n",
}


def streamed(text: str) -> list[Any]:
    return [item.value for item in yaml_stream.items(text.encode())]


def expected(text: str) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


@pytest.mark.parametrize("text", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_same_values_as_safe_load(text: str) -> None:
    assert streamed(text) == expected(text)


def test_list_documents_hand_out_their_items_with_the_list_kind() -> None:
    text = "kind: PodList\nitems:\n- metadata: {name: a}\n- metadata: {name: b}\n---\n- kind: Node\n"
    got = [(item.value, item.list_kind) for item in yaml_stream.items(text.encode())]
    assert got == [
        ({"metadata": {"name": "a"}}, "PodList"),
        ({"metadata": {"name": "b"}}, "PodList"),
        ({"kind": "Node"}, None),
    ]


def test_only_the_top_level_items_are_streamed() -> None:
    text = "kind: ConfigMap\nspec:\n  items: [a, b]\n"
    assert streamed(text) == [{"kind": "ConfigMap", "spec": {"items": ["a", "b"]}}]


@pytest.mark.parametrize(
    "text", ["a: [1, 2\n", "a: *missing\n", "a: !custom x\n"], ids=["unclosed", "alias", "tag"]
)
def test_malformed_yaml_raises_a_yaml_error(text: str) -> None:
    with pytest.raises(yaml.YAMLError):
        streamed(text)
