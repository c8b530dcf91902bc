"""The scheduler's container image, in the mode the stack chooses (DESIGN.md 2.1, README "Choosing an
image mode"):

- ``import`` (default): build from ``scheduler/`` on the machine running Pulumi into a docker-archive
  tarball, copy it to every node and ``ctr -n k8s.io images import`` it (``scripts/import-image.sh``).
  No registry. The reference is ``kubevps.local/custom-scheduler:ctx-<content hash>``, pulled
  ``IfNotPresent``: a changed context is a new tag, hence a rollout; an unchanged one is no change.
- ``registry``: build and push to ``<registry>/custom-scheduler:ctx-<content hash>``; the Deployment uses
  the pushed ``tag@digest``.
- ``prebuilt``: the configured reference, as is; nothing is built.

The content hash is computed here, from the files the build context sends (``scheduler/.dockerignore``
applied) and the Dockerfile, so the tag is known before the build and in preview. Images are never
built in preview (``build_on_preview=False``): a preview needs no Docker engine.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Final

import pulumi
import pulumi_docker_build as docker_build
from pulumi_command import local, remote

from infra.config import ImageConfig
from infra.kubeadm.scripts import remote_command, render_script
from infra.nodes.base import VpsNode

ROOT: Final = Path(__file__).resolve().parents[2]
CONTEXT: Final = ROOT / "scheduler"
TARBALL_DIR: Final = ROOT / "build" / "images"
COPY_SCRIPT: Final = Path(__file__).resolve().parent / "scripts" / "copy-image.sh"
REPOSITORY: Final = "custom-scheduler"
LOCAL_REGISTRY: Final = "kubevps.local"
"""Registry part of import-mode references: no such registry exists, so a missing image fails loudly."""
PLATFORM: Final = docker_build.Platform.LINUX_AMD64
"""The nodes' platform: every plan in the node catalogs is x86-64."""
TAG_HASH_LENGTH: Final = 24


def context_hash(context: Path = CONTEXT) -> str:
    """SHA-256 over the Dockerfile and every file the build context sends, in path order.

    A file's path, executable bit and content count; files excluded by ``.dockerignore`` do not.
    """
    patterns = dockerignore_rules(context / ".dockerignore")
    digest = hashlib.sha256()
    digest.update(b"Dockerfile\0" + (context / "Dockerfile").read_bytes() + b"\0")
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        relative = path.relative_to(context).as_posix()
        if is_ignored(relative, patterns):
            continue
        executable = b"x" if path.stat().st_mode & 0o111 else b"-"
        digest.update(relative.encode() + b"\0" + executable + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def content_tag(context: Path = CONTEXT) -> str:
    """The image tag for the current context: ``ctx-`` and the first hex digits of its hash."""
    return f"ctx-{context_hash(context)[:TAG_HASH_LENGTH]}"


@cache
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus ``**``) as a regex over slash-separated paths."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignore_rules(path: Path) -> list[tuple[bool, str]]:
    """(is exception, pattern) per rule of a .dockerignore file, in order."""
    if not path.is_file():
        return []
    rules = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/")
        rules.append((exception, pattern))
    return rules


def is_ignored(relative: str, patterns: Sequence[tuple[bool, str]]) -> bool:
    """Docker's rule: the last pattern matching the path, or one of its parent folders, decides."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for exception, pattern in patterns:
        regex = _pattern_regex(pattern)
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not exception
    return ignored


def project_path(path: Path) -> str:
    """``path`` relative to the project root, where Pulumi runs the program: moving the checkout (or
    planning it on another machine) then changes no input of the image."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def registry_host(registry: str) -> str:
    """The host part of ``ghcr.io/acme``: what ``docker login`` takes."""
    return registry.split("/", 1)[0]


def pull_policy(ref: str) -> str:
    """``IfNotPresent`` for immutable references (a digest, or our content-hash tags), else ``Always``."""
    immutable = "@sha256:" in ref or ref.rpartition(":")[2].startswith("ctx-")
    return "IfNotPresent" if immutable else "Always"


class SchedulerImage(pulumi.ComponentResource):
    """The scheduler image, built and delivered per ``settings.mode``.

    Outputs: ``ref`` (the Deployment's image reference, immutable per build), ``pull_policy`` and
    ``ready``: resources the Deployment waits for (the per-node imports in import mode).
    ``after`` is what must exist before anything is copied to a node (the cluster's provider, which
    waits for every node's join, so containerd runs everywhere).
    """

    ref: pulumi.Output[str]
    pull_policy: str
    ready: list[pulumi.Resource]

    def __init__(
        self,
        name: str,
        *,
        settings: ImageConfig,
        nodes: Sequence[VpsNode],
        after: pulumi.Resource,
        become_root: bool,
        context: Path = CONTEXT,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("kubevps:index:SchedulerImage", name, None, opts)
        self.ready = []
        if settings.mode == "prebuilt":
            ref = str(settings.ref)
            self.ref = pulumi.Output.from_input(ref)
            self.pull_policy = pull_policy(ref)
        elif settings.mode == "registry":
            image = self._build(
                name,
                context,
                tag=f"{settings.registry}/{REPOSITORY}:{content_tag(context)}",
                push=True,
                registries=[
                    docker_build.RegistryArgs(
                        address=registry_host(str(settings.registry)),
                        username=settings.username,
                        password=pulumi.Output.secret(
                            settings.password.get_secret_value() if settings.password else ""
                        ),
                    )
                ],
            )
            self.ref = image.ref
            self.pull_policy = "IfNotPresent"
        else:
            tag = content_tag(context)
            local_ref = f"{LOCAL_REGISTRY}/{REPOSITORY}:{tag}"
            tarball = TARBALL_DIR / f"{REPOSITORY}-{tag}.tar"
            tarball.parent.mkdir(parents=True, exist_ok=True)
            image = self._build(
                name,
                context,
                tag=local_ref,
                push=False,
                exports=[
                    docker_build.ExportArgs(
                        docker=docker_build.ExportDockerArgs(dest=project_path(tarball), tar=True)
                    )
                ],
            )
            self.ready = [
                self._import(
                    node, image, tarball=tarball, local_ref=local_ref, after=after, become_root=become_root
                )
                for node in nodes
            ]
            # The reference is only usable once the image is built: tie it to the build's digest.
            self.ref = image.digest.apply(lambda _: local_ref)
            self.pull_policy = "IfNotPresent"
        self.register_outputs({"ref": self.ref})

    def _build(
        self,
        name: str,
        context: Path,
        *,
        tag: str,
        push: bool,
        registries: Sequence[docker_build.RegistryArgs] | None = None,
        exports: Sequence[docker_build.ExportArgs] | None = None,
    ) -> docker_build.Image:
        return docker_build.Image(
            f"{name}-build",
            context=docker_build.BuildContextArgs(location=project_path(context)),
            dockerfile=docker_build.DockerfileArgs(location=project_path(context / "Dockerfile")),
            platforms=[PLATFORM],
            tags=[tag],
            push=push,
            registries=list(registries) if registries else None,
            exports=list(exports) if exports else None,
            build_on_preview=False,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _import(
        self,
        node: VpsNode,
        image: docker_build.Image,
        *,
        tarball: Path,
        local_ref: str,
        after: pulumi.Resource,
        become_root: bool,
    ) -> remote.Command:
        """Copy the tarball to ``node`` and import it into containerd, again when the tag or machine changes.

        The copy runs where Pulumi runs (``scripts/copy-image.sh`` streams the tarball over SSH) rather than
        as a ``CopyToRemote`` of a file asset: the engine hashes an asset on every run, so a later run from a
        fresh checkout, without the tarball, would fail even with nothing to copy.
        """
        node_name = node.spec.name
        remote_tarball = f"/tmp/kubevps-{tarball.name}"
        connection = node.connection
        copy = local.Command(
            f"{node_name}-scheduler-image-copy",
            create=f"bash {project_path(COPY_SCRIPT)}",
            environment={
                "KUBEVPS_HOST": connection.host,
                "KUBEVPS_USER": connection.user or "root",
                "KUBEVPS_TARBALL": project_path(tarball),
                "KUBEVPS_REMOTE_PATH": remote_tarball,
            },
            stdin=connection.private_key,
            triggers=[local_ref, node.identity],
            logging=local.Logging.STDERR,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[image, after]),
        )
        script = render_script("import-image", {"IMAGE_TAR": remote_tarball, "IMAGE_REF": local_ref})
        return remote.Command(
            f"{node_name}-scheduler-image-import",
            connection=node.connection,
            create=remote_command(script, step="import-image", become_root=become_root),
            triggers=[local_ref, node.identity],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[copy]),
        )
