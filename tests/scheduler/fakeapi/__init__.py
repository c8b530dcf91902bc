"""An in-process fake of the Kubernetes API, served over real HTTP, for testing the controller.

    cluster = FakeCluster()
    api = FakeApiServer(cluster).start()      # api.url, api.kubeconfig(path), api.faults
    ...
    api.stop()

`python -m tests.scheduler.fakeapi --port N` serves it in its own process (the benchmark does this);
drivers in other processes use the `/fake/...` control endpoints.
"""

from .cluster import ApiFailureError, BindingRecord, FakeCluster
from .faults import Faults
from .server import FakeApiServer

__all__ = ["ApiFailureError", "BindingRecord", "FakeApiServer", "FakeCluster", "Faults"]
