"""A fake (WB's, Telegram's) in a process of its own: both ends of the hand-shake.

The child serves the fake and a small control server, prints one JSON line describing them
and serves until its stdin closes; the parent reads that line and, to stop it, closes the
child's stdin.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import orjson
from aiohttp import web


def start(module: str, argument: str, name: str) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Run `python -m module argument`; return the process and the line it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, argument], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        raise RuntimeError(f"the {name}'s process ended with {process.returncode}")
    info: dict[str, Any] = orjson.loads(line)
    return process, info


def stop(process: subprocess.Popen[bytes]) -> None:
    """Close a fake's stdin (its signal to stop), then wait for it; kill it if it hangs."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def serve_control(control: web.Application, describe: dict[str, Any]) -> None:
    """Serve `control` on a free loopback port, print `describe` with its "control" address
    added, and serve until the parent closes our stdin (or dies)."""
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    line = {**describe, "control": f"http://127.0.0.1:{port}"}
    sys.stdout.write(orjson.dumps(line).decode() + "\n")
    sys.stdout.flush()
    try:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await runner.cleanup()
