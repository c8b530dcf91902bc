"""The offline plan (DESIGN.md 2.4): run the real ``__main__.py`` under Pulumi's mock engine and write what
it would create.

``python -m infra.plan --stack NAME [--out DIR]`` reads ``stacks/Pulumi.NAME.yaml`` and needs no Pulumi
CLI, no credentials and no network. Outputs of cloud resources that only a real provider knows (server
addresses, command stdout) are filled with labelled stand-ins from the documentation address ranges.
Secure config values become placeholders; every secret is written as ``"[secret]"``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import runpy
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pulumi
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pulumi.runtime import mocks, rpc
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import run_pulumi_func

from infra.kubeadm.scripts import extract_script

ROOT: Final = Path(__file__).resolve().parents[1]
PROJECT: Final = "kubevps"
SECRET: Final = "[secret]"
EXIT_INVALID_CONFIG: Final = 2
PLACEHOLDER_KUBECONFIG: Final = """apiVersion: v1
kind: Config
clusters:
- name: kubevps-plan
  cluster: {server: "https://192.0.2.1:6443"}
contexts:
- name: kubevps-plan
  context: {cluster: kubevps-plan, user: kubevps-plan}
current-context: kubevps-plan
users:
- name: kubevps-plan
  user: {token: offline-plan-placeholder}
"""


class PlanError(Exception):
    """The plan cannot be produced; the message says why (exit code 2)."""


@dataclass
class Resource:
    """One registered resource as the plan reports it."""

    type: str
    name: str
    urn: str
    parent_urn: str
    dependency_urns: list[str]
    inputs: dict[str, Any]


@dataclass
class Recorder(mocks.Mocks):
    """Answers the engine's calls like a provider would and records every registration."""

    resources: list[Resource] = field(default_factory=list)
    stack_outputs: dict[str, tuple[Any, bool]] = field(default_factory=dict)
    """Each export's resolved value and whether it is secret."""
    _counter: int = 0

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self._counter += 1
        outputs = _provider_outputs(args.typ, args.name, self._counter, args.inputs)
        return str(self._counter), {**args.inputs, **outputs}

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(mocks.MockMonitor):
    """The mock monitor, also keeping what the real engine would see: parents, dependencies, outputs."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.recorder = recorder

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            dependencies = list(request.dependencies)
            for deps in request.propertyDependencies.values():
                dependencies += list(deps.urns)
            self.recorder.resources.append(
                Resource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent_urn=request.parent,
                    dependency_urns=dependencies,
                    inputs=rpc.deserialize_properties(request.object),
                )
            )
        return response


def _provider_outputs(type_: str, name: str, index: int, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Stand-ins for what a real provider would report after creating the resource."""
    public = f"198.51.100.{index % 250 + 1}"
    if type_ == "command:remote:Command":
        if name.endswith("-kubeconfig"):
            return {"stdout": PLACEHOLDER_KUBECONFIG, "stderr": ""}
        if name.endswith("-join-credentials"):
            return {"stdout": "b2ZmbGluZS1wbGFuLWpvaW4tYnVuZGxl", "stderr": ""}
        if name.endswith("-preflight"):
            host, mac = (
                uuid.uuid5(uuid.NAMESPACE_DNS, name),
                f"02:00:00:00:{index // 256:02x}:{index % 256:02x}",
            )
            return {"stdout": f"kubevps: product_uuid={host}\nkubevps: mac={mac}\n", "stderr": ""}
        return {"stdout": "", "stderr": ""}
    if type_ == "hcloud:index/server:Server":
        return {"ipv4Address": public}
    if type_ == "hcloud:index/serverNetwork:ServerNetwork":
        return {"ip": f"10.0.0.{index % 250 + 2}"}
    if type_ == "digitalocean:index/droplet:Droplet":
        return {"ipv4Address": public, "ipv4AddressPrivate": f"172.16.0.{index % 250 + 2}"}
    if type_ == "digitalocean:index/sshKey:SshKey":
        return {"fingerprint": f"00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:{index % 256:02x}"}
    if type_ == "docker-build:index:Image":
        digest = "sha256:" + uuid.uuid5(uuid.NAMESPACE_DNS, name).hex * 2
        tag = (inputs.get("tags") or [name])[0]
        ref = f"{tag}@{digest}" if inputs.get("push") else tag  # the provider's rule: tag@digest once pushed
        return {"digest": digest, "ref": ref, "contextHash": digest.removeprefix("sha256:")}
    return {}


# -- stack config -------------------------------------------------------------------------------------


def read_stack_config(stack: str, stack_dir: Path = ROOT / "stacks") -> tuple[dict[str, str], list[str]]:
    """Config of ``<stack_dir>/Pulumi.<stack>.yaml`` as the engine passes it: JSON text per key, secret keys.

    Secure values become placeholders; an SSH private key becomes a throwaway key made for this plan
    only, so the public key derived from it looks like a real one.
    """
    path = stack_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(
            p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in stack_dir.glob("Pulumi.*.yaml")
        )
        raise PlanError(f"{path}: no such stack file; stacks: {', '.join(known) or 'none'}")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PlanError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise PlanError(f"{path}: expected a mapping with a 'config:' mapping")
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in (document.get("config") or {}).items():
        plain, secret = _placeholders(value, key)
        values[key] = plain if isinstance(plain, str) else json.dumps(plain)
        if secret:
            secret_keys.append(key)
    return values, secret_keys


def _placeholders(value: Any, path: str) -> tuple[Any, bool]:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return (_throwaway_private_key() if path.endswith("privateKey") else "offline-plan-placeholder"), True
    if isinstance(value, dict):
        items = {k: _placeholders(v, f"{path}.{k}") for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, list):
        elements = [_placeholders(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return [v for v, _ in elements], any(s for _, s in elements)
    return value, False


def _throwaway_private_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    return pem.decode()


# -- running the program --------------------------------------------------------------------------------


@contextmanager
def _quiet_engine_logs() -> Iterator[None]:
    """The mock engine logs each resource at INFO; the plan prints its own summary instead."""
    previous = pulumi.log.info
    pulumi.log.info = lambda *args, **kwargs: None
    try:
        yield
    finally:
        pulumi.log.info = previous


def run_program(stack: str, values: Mapping[str, str], secret_keys: list[str]) -> Recorder:
    """Run ``__main__.py`` under the mock engine with the given config; return what it registered."""
    recorder = Recorder()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_all_config(dict(values), secret_keys)
        mocks.set_mocks(
            recorder, project=PROJECT, stack=stack, preview=False, monitor=RecordingMonitor(recorder)
        )
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        with _quiet_engine_logs():
            loop.run_until_complete(run_pulumi_func(_run_main))
            recorder.stack_outputs = loop.run_until_complete(_stack_outputs())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return recorder


def _run_main() -> None:
    runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")


async def _stack_outputs() -> dict[str, tuple[Any, bool]]:
    """The program's exports, resolved, each with whether it is secret (a nested secret makes it so)."""
    root = get_root_resource()
    exports: dict[str, Any] = dict(getattr(root, "outputs", {}))
    resolved: dict[str, tuple[Any, bool]] = {}
    for name, value in exports.items():
        output = pulumi.Output.from_input(value)
        resolved[name] = (await output.future(), await output.is_secret())
    return resolved


# -- writing the plan -----------------------------------------------------------------------------------


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def mask(value: Any, *, keep_shape: bool = False) -> Any:
    """A copy of an engine value with every secret replaced by ``"[secret]"`` and integral floats as ints.

    With ``keep_shape``, a secret mapping keeps its keys and only its values become ``"[secret]"``, so a
    Kubernetes manifest stays valid for its schema (the SDK marks a Secret's whole ``stringData`` secret).
    """
    if _is_secret(value):
        inner = value.get("value")
        if keep_shape and isinstance(inner, dict):
            return {k: SECRET for k in inner if not k.startswith("__")}
        return SECRET
    if isinstance(value, pulumi.FileAsset):  # a file the engine would upload: shown by its path
        return {"fileAsset": str(value.path)}
    if isinstance(value, dict):
        return {k: mask(v, keep_shape=keep_shape) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [mask(v, keep_shape=keep_shape) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def resources_json(recorder: Recorder) -> list[dict[str, Any]]:
    """The resources as DESIGN.md 2.4 lists them, sorted by name so plans diff well.

    Fails on a duplicate name, as the engine would on a duplicate URN.
    """
    names_by_urn = {r.urn: r.name for r in recorder.resources}
    seen: dict[str, str] = {}
    for r in recorder.resources:
        if r.name in seen:
            raise PlanError(f"two resources are both named {r.name!r} ({seen[r.name]} and {r.type})")
        seen[r.name] = r.type
    return [
        {
            "type": r.type,
            "name": r.name,
            "parent": names_by_urn.get(r.parent_urn),
            "dependsOn": sorted({names_by_urn[u] for u in r.dependency_urns if u in names_by_urn}),
            "inputs": mask(r.inputs, keep_shape=r.type.startswith("kubernetes:")),
        }
        for r in sorted(recorder.resources, key=lambda r: r.name)
    ]


def outputs_json(recorder: Recorder) -> dict[str, dict[str, Any]]:
    return {
        name: {"secret": secret, "value": SECRET if secret else mask(value)}
        for name, (value, secret) in sorted(recorder.stack_outputs.items())
    }


def write_plan(recorder: Recorder, out: Path) -> dict[str, int]:
    """Write resources.json, outputs.json, manifests/ and scripts/ into ``out``; return counts of them."""
    resources = resources_json(recorder)
    manifests, scripts = out / "manifests", out / "scripts"
    for folder in (manifests, scripts):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.iterdir():
            stale.unlink()
    (out / "resources.json").write_text(
        json.dumps(resources, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out / "outputs.json").write_text(json.dumps(outputs_json(recorder), indent=2) + "\n", encoding="utf-8")
    counts = {"commands": 0, "manifests": 0}
    for resource in resources:
        if resource["type"] == "command:remote:Command":
            counts["commands"] += 1
            for key, suffix in (("create", ".sh"), ("delete", ".delete.sh")):
                if key in resource["inputs"]:
                    text = _script_text(resource["inputs"][key])
                    (scripts / f"{resource['name']}{suffix}").write_text(text, encoding="utf-8")
        elif resource["type"].startswith("kubernetes:"):
            counts["manifests"] += 1
            # As people write manifests: apiVersion, kind and metadata first.
            head = {
                k: resource["inputs"][k]
                for k in ("apiVersion", "kind", "metadata")
                if k in resource["inputs"]
            }
            manifest = head | resource["inputs"]
            (manifests / f"{resource['name']}.yaml").write_text(
                yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8"
            )
    return counts


def _script_text(command: Any) -> str:
    if command == SECRET:
        return "#!/usr/bin/env bash\n# [secret]\n"
    script = extract_script(str(command))
    return script + "\n" if script is not None else f"#!/usr/bin/env bash\n{command}\n"


def summary(stack: str, recorder: Recorder, counts: Mapping[str, int], out: Path) -> str:
    nodes = [r for r in recorder.resources if r.type.startswith("kubevps:index:") and r.type.endswith("Node")]
    kinds: dict[str, int] = {}
    for r in recorder.resources:
        if r.type.startswith("kubernetes:"):
            kind = str(r.inputs.get("kind", r.type.rsplit(":", 1)[-1]))
            kinds[kind] = kinds.get(kind, 0) + 1
    addons = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items())) or "none"
    return "\n".join(
        [
            f"plan of stack {stack}: {len(recorder.resources)} resources -> {out}",
            f"  nodes:   {len(nodes)} ({', '.join(r.name for r in nodes)})",
            f"  steps:   {counts['commands']} remote commands (scripts/)",
            f"  add-ons: {addons}",
            f"  outputs: {', '.join(sorted(recorder.stack_outputs))}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.plan", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="stack name: reads stacks/Pulumi.NAME.yaml")
    parser.add_argument("--out", type=Path, help="output folder (default build/plan/NAME)")
    parser.add_argument("--stack-dir", type=Path, default=ROOT / "stacks", help="where stack files are")
    args = parser.parse_args(argv)
    out: Path = args.out or ROOT / "build" / "plan" / args.stack
    try:
        values, secret_keys = read_stack_config(args.stack, args.stack_dir)
        recorder = run_program(args.stack, values, secret_keys)
        out.mkdir(parents=True, exist_ok=True)
        counts = write_plan(recorder, out)
    except PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    except pulumi.RunError as exc:
        lines = str(exc).splitlines()
        print(
            "\n".join(line for line in lines if line.startswith(f"{PROJECT}:")) or str(exc), file=sys.stderr
        )
        return EXIT_INVALID_CONFIG
    print(summary(args.stack, recorder, counts, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
