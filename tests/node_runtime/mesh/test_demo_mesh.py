"""The demo mesh of examples/mesh.toml, run by `qewd-node mesh` as a user would."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

from tests.support import ROOT, Client, run, scaled


def test_demo_mesh_runs_login_groups_and_chain() -> None:
    """`qewd-node mesh --free-ports` serves login, a fan-out save, a balanced read, a chain."""

    async def scenario() -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "node_runtime.cli",
            "mesh",
            "--free-ports",
            str(ROOT / "examples" / "mesh.toml"),
            cwd=str(ROOT),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        urls: dict[str, str] = {}
        try:
            while len(urls) < 6:
                line = (await asyncio.wait_for(proc.stdout.readline(), scaled(60))).decode()
                found = re.match(r"node (\S+): (\S+)", line)
                assert found, line
                urls[found[1]] = found[2]
            async with Client.connect(urls["orchestrator"]) as client:
                await client.register("clinic")
                login = await client.call(
                    {
                        "type": "login",
                        "params": {"username": "ann", "password": "nna"},
                        "trace": True,
                    },
                    timeout=20,
                )
                assert login["message"].get("ok") is True, login
                assert [h["node"] for h in login["trace"]] == ["orchestrator", "login"]
                client.token = login["message"]["token"]
                saved = await client.call(
                    {"type": "savePatient", "params": {"patient": {"name": "Ann"}}}, timeout=20
                )
                results = saved["message"]["results"]
                assert set(results) == {"store1", "store2"}
                assert results["store1"]["id"] == results["store2"]["id"]
                got = await client.call(
                    {"type": "getPatient", "params": {"id": results["store1"]["id"]}}, timeout=20
                )
                assert got["message"]["patient"] == {"name": "Ann"}
                assert got["message"]["node"] in ("store1", "store2")
                assert got["between"][0]["message"] == {"progress": 50}
                await client.register("audit")
                archived = await client.call({"type": "archive", "trace": True}, timeout=20)
                assert archived["message"]["node"] == "archive"
                assert [h["node"] for h in archived["trace"]] == [
                    "orchestrator",
                    "audit",
                    "archive",
                ]
        finally:
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), scaled(30)) == 0

    run(scenario(), timeout=120)


def test_console_demo_mesh_matches_the_example_mesh() -> None:
    """The console's shipped demo mesh has the nodes, apps and routes of examples/mesh.toml."""
    from node_runtime.config import MeshConfig, load_mesh_config

    example = load_mesh_config(ROOT / "examples" / "mesh.toml")
    shipped = load_mesh_config(ROOT / "qewd_console" / "resources" / "demo_mesh.toml")

    def shape(mesh: MeshConfig) -> list[tuple[object, ...]]:
        return [
            (n.name, n.port, n.pool_size, n.prefork, dict(n.apps), n.route_map.to_dict())
            for n in mesh.nodes
        ]

    assert shape(shipped) == shape(example)


def test_demo_applications_ship_in_the_package() -> None:
    """Every application the demo mesh loads lives in a package the distribution ships
    (pyproject's package list), so a console installed from a wheel, away from this
    source tree, can start its demo."""
    import tomllib

    from node_runtime.config import load_mesh_config

    shipped = load_mesh_config(ROOT / "qewd_console" / "resources" / "demo_mesh.toml")
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = find["packages"]["find"]["include"]
    modules = {module for node in shipped.nodes for module in node.apps.values()}
    assert modules
    for module in modules:
        top = module.split(".")[0]
        assert any(re.fullmatch(p.replace("*", ".*"), top) for p in patterns), module
        assert (ROOT / top / "__init__.py").is_file(), module
