"""What the VPS providers sell: plans with their declared sizes, and locations.

One place for the catalog, so config validation, the node components and the docs agree. The sizes are
the ones the providers publish (vCPU, GiB of memory, GiB of disk); preflight later checks the real host.
Only x86_64 plans are listed: the scheduler image is built for amd64.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Size:
    """Declared resources of a machine."""

    cpu: int
    memory_gib: float
    disk_gib: int


@dataclass(frozen=True, slots=True)
class Location:
    """A provider location and the private-network zone it belongs to."""

    slug: str
    city: str
    network_zone: str


@dataclass(frozen=True, slots=True)
class ProviderCatalog:
    """Plans and locations of one provider, and the OS image the nodes boot."""

    plans: dict[str, Size]
    locations: dict[str, Location]
    image: str


HCLOUD: Final = ProviderCatalog(
    plans={
        "cx22": Size(2, 4, 40),
        "cx32": Size(4, 8, 80),
        "cx42": Size(8, 16, 160),
        "cx52": Size(16, 32, 320),
        "cpx11": Size(2, 2, 40),
        "cpx21": Size(3, 4, 80),
        "cpx31": Size(4, 8, 160),
        "cpx41": Size(8, 16, 240),
        "cpx51": Size(16, 32, 360),
        "ccx13": Size(2, 8, 80),
        "ccx23": Size(4, 16, 160),
        "ccx33": Size(8, 32, 240),
        "ccx43": Size(16, 64, 360),
    },
    locations={
        "fsn1": Location("fsn1", "Falkenstein", "eu-central"),
        "nbg1": Location("nbg1", "Nuremberg", "eu-central"),
        "hel1": Location("hel1", "Helsinki", "eu-central"),
        "ash": Location("ash", "Ashburn", "us-east"),
        "hil": Location("hil", "Hillsboro", "us-west"),
        "sin": Location("sin", "Singapore", "ap-southeast"),
    },
    image="ubuntu-22.04",
)

DIGITALOCEAN: Final = ProviderCatalog(
    plans={
        "s-1vcpu-2gb": Size(1, 2, 50),
        "s-2vcpu-2gb": Size(2, 2, 60),
        "s-2vcpu-4gb": Size(2, 4, 80),
        "s-4vcpu-8gb": Size(4, 8, 160),
        "s-8vcpu-16gb": Size(8, 16, 320),
        "c-2": Size(2, 4, 25),
        "c-4": Size(4, 8, 50),
        "c-8": Size(8, 16, 100),
        "g-2vcpu-8gb": Size(2, 8, 25),
        "g-4vcpu-16gb": Size(4, 16, 50),
        "m-2vcpu-16gb": Size(2, 16, 50),
    },
    locations={
        "nyc1": Location("nyc1", "New York", "nyc1"),
        "nyc3": Location("nyc3", "New York", "nyc3"),
        "sfo3": Location("sfo3", "San Francisco", "sfo3"),
        "tor1": Location("tor1", "Toronto", "tor1"),
        "ams3": Location("ams3", "Amsterdam", "ams3"),
        "lon1": Location("lon1", "London", "lon1"),
        "fra1": Location("fra1", "Frankfurt", "fra1"),
        "blr1": Location("blr1", "Bangalore", "blr1"),
        "sgp1": Location("sgp1", "Singapore", "sgp1"),
        "syd1": Location("syd1", "Sydney", "syd1"),
    },
    image="ubuntu-22-04-x64",
)

CATALOGS: Final[dict[str, ProviderCatalog]] = {"hcloud": HCLOUD, "digitalocean": DIGITALOCEAN}


def find_plan(plan: str) -> tuple[str, Size] | None:
    """The provider and size of a plan name, searched across every provider (plan names do not collide)."""
    for provider, catalog in CATALOGS.items():
        if plan in catalog.plans:
            return provider, catalog.plans[plan]
    return None


HCLOUD_NETWORK: Final = "10.0.0.0/16"
HCLOUD_SUBNET: Final = "10.0.0.0/24"
_DO_VPC_SPACE: Final = ipaddress.ip_network("172.16.0.0/12")


def private_network(provider: str, *, cluster: str, region: str) -> str:
    """The private range KubeVPS creates for a provider's nodes of one cluster and region.

    Hetzner networks are per project, so one fixed range does. DigitalOcean VPC ranges must not overlap
    within an account, so each cluster and region gets its own /24 of 172.16.0.0/12, picked by a hash.
    """
    if provider == "hcloud":
        return HCLOUD_SUBNET
    digest = hashlib.sha256(f"{cluster}/{region}".encode()).digest()
    index = int.from_bytes(digest[:2], "big") % (_DO_VPC_SPACE.num_addresses // 256)
    return str(ipaddress.ip_network((int(_DO_VPC_SPACE.network_address) + index * 256, 24)))
