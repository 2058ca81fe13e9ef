"""``qewd-node``: run a node or a whole mesh, mint tokens, check files, capture, replay.

Exit codes: 0 success; 1 a check or comparison found problems; 2 bad usage or a
configuration error (the message names file, key and reason); 3 could not start
(port in use, worker failed); 130 interrupted before start-up completed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from node_runtime.capture.cli import add_capture_commands, run_capture_command
from node_runtime.config import MeshConfig, NodeConfig, check_file, load_any, load_mesh_config
from node_runtime.errors import ConfigError, NodeError
from node_runtime.loading import token_settings
from node_runtime.master import Node
from node_runtime.meshrun import connect_mesh, freeze_startup_heap, relocate
from node_runtime.protocol.tokens import TokenService

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_START = 3

log = logging.getLogger("qewd.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qewd-node",
        description="Run QEWD Mesh nodes and tools. Exit codes: 0 ok, 1 problems found, "
        "2 usage or configuration error, 3 could not start.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run one node until SIGINT/SIGTERM (graceful drain)")
    run.add_argument("config", type=Path, help="node config file (TOML)")

    mesh = sub.add_parser("mesh", help="run every node of a mesh file in one process")
    mesh.add_argument("config", type=Path, help="mesh file (TOML with [[node]] tables)")
    mesh.add_argument(
        "--free-ports",
        action="store_true",
        help="move every node to a free port (links follow); prints the URLs",
    )

    token = sub.add_parser("token", help="print a token signed with the mesh secret")
    token.add_argument("--config", type=Path, required=True, help="node config or mesh file")
    token.add_argument("--role", choices=("admin", "monitor", "node"), required=True)
    token.add_argument("--sub", default="", help="who holds the token (default: the role)")
    token.add_argument("--ttl", type=float, default=3600.0, help="lifetime in seconds")

    check = sub.add_parser("check", help="validate a node config, mesh file or route map")
    check.add_argument("file", type=Path)

    add_capture_commands(sub)
    return parser


async def _serve(nodes: Sequence[NodeConfig]) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running: list[Node] = []
    try:
        for config in nodes:
            node = Node(config)
            await node.start()
            running.append(node)
        await connect_mesh(running)
        freeze_startup_heap()
        for node in running:
            print(f"node {node.name}: {node.url}", flush=True)
    except OSError as exc:
        print(f"qewd-node: could not start: {exc}", file=sys.stderr)
        for node in running:
            await node.stop(drain_timeout=1.0)
        return EXIT_START
    await stop.wait()
    print("draining...", flush=True)
    await asyncio.gather(*(node.stop() for node in running))
    return EXIT_OK


def _cmd_token(args: argparse.Namespace) -> int:
    loaded = load_any(args.config)
    if isinstance(loaded, MeshConfig):
        node_cfg = loaded.nodes[0]
    elif isinstance(loaded, NodeConfig):
        node_cfg = loaded
    else:
        raise ConfigError(str(args.config), "jwt", "a route map file has no [jwt] table")
    service = TokenService(token_settings(node_cfg))
    sub = args.sub or (f"node:{node_cfg.name}" if args.role == "node" else args.role)
    print(service.issue_role(args.role, sub, time.time(), args.ttl))
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    problems = check_file(args.file)
    for line in problems:
        print(line)
    if problems:
        print(f"{args.file}: {len(problems)} problem(s)", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"{args.file}: ok")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``qewd-node``."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        if args.command == "run":
            loaded = load_any(args.config)
            if not isinstance(loaded, NodeConfig):
                raise ConfigError(
                    str(args.config),
                    "node",
                    "not a node config (use 'qewd-node mesh' for a mesh file)",
                )
            return asyncio.run(_serve([loaded]))
        if args.command == "mesh":
            mesh_config = load_mesh_config(args.config)
            if args.free_ports:
                mesh_config = relocate(mesh_config)
            return asyncio.run(_serve(mesh_config.nodes))
        if args.command == "token":
            return _cmd_token(args)
        if args.command == "check":
            return _cmd_check(args)
        return run_capture_command(args)
    except ConfigError as exc:
        print(f"qewd-node: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NodeError as exc:
        print(f"qewd-node: {exc.code}: {exc.text}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
