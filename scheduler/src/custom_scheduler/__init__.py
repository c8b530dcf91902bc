"""custom-scheduler: KubeVPS's load-aware Kubernetes scheduler with kube-scheduler 1.28 filter semantics.

Where things are:

    cli.py            the ``custom-scheduler`` command (run, simulate, extender)
    config.py         the scheduler config model (also used by the Pulumi program)
    engine.py         the facade the controller, the extender and simulate call
    simulate.py       offline scheduling of manifest files; output.py renders its results
    objects.py        v1 Pod/Node dicts -> small frozen values (requests, tolerations, affinity, ports)
    cluster.py        all nodes as column arrays (numpy), pods reduced to what they use
    framework/        statuses, plugin interfaces, registry, the runtime that filters and scores
    plugins/          one module per plugin; names.py has every name; __init__ registers them
    quantity.py, validation.py, yaml_stream.py, errors.py   exact quantities, label syntax, YAML, errors
    controller/, kube/, extender/   the ``run`` and ``extender`` commands
"""

__version__ = "0.1.0"
