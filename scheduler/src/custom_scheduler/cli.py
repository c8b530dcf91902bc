"""The ``custom-scheduler`` command: ``run`` (the controller), ``simulate`` (offline) and ``extender``.

The controller and extender are imported only by their own commands, so ``simulate`` starts fast.
``main`` returns the exit code: 0 on success, 2 for a bad config, input file or command line, with one
line per problem on stderr and never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Final, TextIO

from custom_scheduler.config import SchedulerConfig, load_config
from custom_scheduler.errors import ConfigError, InputError

EXIT_USAGE: Final = 2
DEFAULT_METRICS_ADDR: Final = "0.0.0.0:10251"
DEFAULT_EXTENDER_ADDR: Final = "0.0.0.0:8888"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="custom-scheduler", description="KubeVPS's load-aware scheduler.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="schedule pods in a cluster (leader-elected controller)")
    run.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, then in-cluster)")
    run.add_argument("--config", help="scheduler config YAML (default: built-in defaults)")
    run.add_argument("--metrics-addr", default=DEFAULT_METRICS_ADDR, metavar="HOST:PORT")
    run.add_argument("--no-leader-elect", action="store_true", help="run without leader election")

    simulate = commands.add_parser("simulate", help="schedule the pending pods of manifest files, offline")
    simulate.add_argument("--config", help="scheduler config YAML (default: built-in defaults)")
    simulate.add_argument("--format", choices=("json", "lines", "table"), default="table")
    simulate.add_argument("--seed", type=int, default=0, help="tie-breaking seed (default 0)")
    simulate.add_argument(
        "files", nargs="+", metavar="FILE", help="YAML or JSON with Nodes, Pods, NodeMetrics"
    )

    extender = commands.add_parser("extender", help="serve kube-scheduler's extender protocol")
    extender.add_argument("--config", help="scheduler config YAML (default: built-in defaults)")
    extender.add_argument("--addr", default=DEFAULT_EXTENDER_ADDR, metavar="HOST:PORT")
    extender.add_argument("--kubeconfig", help="read NodeMetrics with this kubeconfig")
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        config = load_config(args.config)
        if args.command == "simulate":
            return _simulate(args, config, out)
        if args.command == "run":
            from custom_scheduler.controller.runner import run

            return run(
                config=config,
                kubeconfig=args.kubeconfig,
                metrics_addr=args.metrics_addr,
                leader_elect=config.leader_election.leader_elect and not args.no_leader_elect,
            )
        from custom_scheduler.extender.server import serve

        return serve(config=config, addr=args.addr, kubeconfig=args.kubeconfig)
    except (ConfigError, InputError) as error:
        for problem in error.problems:
            print(problem, file=err)
        return EXIT_USAGE


def _simulate(args: argparse.Namespace, config: SchedulerConfig, out: TextIO) -> int:
    from custom_scheduler.output import render
    from custom_scheduler.simulate import simulate

    placements = simulate(args.files, config, seed=args.seed, details=args.format != "lines")
    out.write(render(placements, args.format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
