"""`--broker` at start-up: a malformed URL and an unreachable Redis are one line and exit 2."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from config import ConfigError, load_config
from storage.embedded import free_port
from tests.serverprocess import ROOT


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/0", "redis://", "redis://h:port/0", "redis://h/db",
                                 "redis://h/0?ssl=1", "rediss://h/0"])
def test_a_broker_that_is_not_a_redis_url_is_refused(url: str) -> None:
    """Anything but redis://HOST:PORT/DB is a clear ConfigError."""
    with pytest.raises(ConfigError, match="--broker"):
        load_config(["--broker", url], {})


def test_the_broker_comes_from_the_environment_and_stays_out_of_repr() -> None:
    """LIVEBRACKET_BROKER is read; a password in it is never printed with the config."""
    config = load_config([], {"LIVEBRACKET_BROKER": "redis://:hunter2@127.0.0.1:6390/1"})
    assert config.broker_url == "redis://:hunter2@127.0.0.1:6390/1" and "hunter2" not in repr(config)
    assert load_config([], {}).broker_url is None


async def run_server(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "server.py"), *args, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    return await process.wait(), stderr.decode()


@pytest.mark.gen_test(timeout=60)
async def test_a_server_whose_broker_is_unreachable_refuses_to_start(tmp_path: Path) -> None:
    """Redis not there: one line naming it (no password), exit 2, nothing left listening."""
    code, stderr = await run_server("--port", "0", "--store", "memory", "--data-dir", str(tmp_path),
                                    "--broker", f"redis://:secret@127.0.0.1:{free_port()}/0")
    assert code == 2, stderr
    line = [line for line in stderr.splitlines() if line.startswith("livebracket:")]
    assert len(line) == 1 and "unreachable" in line[0] and "--broker" in line[0], stderr
    assert "secret" not in stderr and "Traceback" not in stderr


@pytest.mark.gen_test(timeout=60)
async def test_a_malformed_broker_is_exit_2(tmp_path: Path) -> None:
    """A bad --broker stops the server before anything starts."""
    code, stderr = await run_server("--store", "memory", "--data-dir", str(tmp_path), "--broker", "nats://x")
    assert code == 2 and stderr.strip().splitlines()[-1].startswith("livebracket: --broker"), stderr
