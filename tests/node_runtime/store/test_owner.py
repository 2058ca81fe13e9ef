"""Lock owner tokens: which holders count as dead and may have their locks reclaimed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from node_runtime.store.owner import _start_time, new_token, owner_is_dead, parse_token
from tests.node_runtime.store.conftest import scaled


def test_a_token_names_this_host_and_process() -> None:
    """new_token() carries the host name and pid of the process that made it."""
    owner = parse_token(new_token())
    assert owner is not None
    assert (owner.host, owner.pid) == (socket.gethostname(), os.getpid())
    assert new_token() != new_token()


def test_live_unknown_and_foreign_owners_are_not_dead() -> None:
    """This process, a text that is not a token, and another host's process count as alive."""
    assert not owner_is_dead(new_token())
    assert not owner_is_dead("not a token")
    assert not owner_is_dead("some-other-host.invalid|1|1|nonce")


def test_an_exited_process_is_dead_even_before_it_is_reaped() -> None:
    """A child that has exited is dead as a zombie and after being reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    token = f"{socket.gethostname()}|{child.pid}||nonce"
    if hasattr(os, "waitid"):
        # Wait for the exit but leave the child unreaped: it is now a zombie.
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        assert owner_is_dead(token)
    child.wait(scaled(30))  # reaped: the pid no longer exists
    assert owner_is_dead(token)


def test_a_reused_pid_with_another_start_time_is_dead() -> None:
    """A live pid whose start time differs from the token's is a different process."""
    with subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                          stdin=subprocess.PIPE) as child:  # fmt: skip
        owner = parse_token(new_token())
        assert owner is not None
        live = f"{socket.gethostname()}|{child.pid}|{owner.start}|nonce"
        if owner.start:  # start times are known (Linux /proc)
            assert owner_is_dead(live)
            real = f"{socket.gethostname()}|{child.pid}|{_start_time(child.pid)}|nonce"
            assert not owner_is_dead(real)
        assert child.stdin is not None
        child.stdin.close()
        child.wait(scaled(30))
