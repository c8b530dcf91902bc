"""Builders for stack configs in tests: a valid config by default, changed one field at a time."""

from __future__ import annotations

import copy
import json
import shlex
from collections.abc import Callable
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from infra.kubeadm.scripts import extract_script
from infra.plan import Recorder, outputs_json, resources_json, run_program


@cache
def private_key() -> str:
    """A throwaway ed25519 key in OpenSSH format, made when the tests run (never committed)."""
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()


def existing_node(name: str, role: str, index: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "role": role,
        "region": "lab",
        "size": {"cpu": 2, "memoryGiB": 4, "diskGiB": 40},
        "publicIp": f"203.0.113.{index}",
        "privateIp": f"10.10.0.{index}",
        **extra,
    }


def stack(*, control_planes: int = 1, workers: int = 1, **top: Any) -> dict[str, Any]:
    """Raw config values (keys without the namespace) of a valid cluster of existing hosts."""
    nodes = [existing_node(f"cp-{i}", "control-plane", i) for i in range(1, control_planes + 1)]
    nodes += [existing_node(f"worker-{i}", "worker", 100 + i) for i in range(1, workers + 1)]
    return {
        "kubernetesVersion": "1.28.15",
        "cluster": {"name": "test", "podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12"},
        "ssh": {"user": "root", "privateKey": private_key()},
        "nodes": nodes,
        **top,
    }


def changed(base: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """A deep copy of ``base`` with ``change`` applied."""
    raw = copy.deepcopy(base)
    change(raw)
    return raw


class Plan:
    """The offline plan of raw config values, run through the real ``__main__.py`` under mocks."""

    def __init__(self, raw: dict[str, Any], *, secret_keys: tuple[str, ...] = ("ssh",)) -> None:
        values = {f"kubevps:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
        self.recorder: Recorder = run_program("test", values, [f"kubevps:{k}" for k in secret_keys])
        self.resources = resources_json(self.recorder)
        self.outputs = outputs_json(self.recorder)
        self.by_name = {r["name"]: r for r in self.resources}

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_]

    def ancestors(self, name: str) -> set[str]:
        """Every resource ``name`` waits for, directly or not."""
        seen: set[str] = set()
        todo = list(self.by_name[name]["dependsOn"])
        while todo:
            dep = todo.pop()
            if dep not in seen:
                seen.add(dep)
                todo += self.by_name[dep]["dependsOn"]
        return seen

    def script(self, name: str, key: str = "create") -> str:
        """The script a remote command runs (``key`` = create or delete)."""
        script = extract_script(self.by_name[name]["inputs"][key])
        assert script is not None, f"{name}.{key} is not a KubeVPS script"
        return script


def bound(script: str, param: str) -> str:
    """The value a rendered script binds to ``KUBEVPS_<param>``, unquoted as bash would."""
    prefix = f"readonly KUBEVPS_{param}="
    start = script.find(prefix)
    assert start >= 0, f"KUBEVPS_{param} not bound"
    lexer = shlex.shlex(script[start + len(prefix) :], posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    return str(lexer.get_token())
