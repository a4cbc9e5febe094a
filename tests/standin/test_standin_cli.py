"""``python -m stripe_standin`` serves until interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path


def test_cli_serves_and_stops() -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-m", "stripe_standin", "--host", "127.0.0.1", "--port", "0",
           "--default-portal", "--retry-scale", "0.001"]  # fmt: skip
    with subprocess.Popen(  # noqa: S603 - fixed command line
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert "simulated: no real money" in line
            url = line.split()[4]
            assert url.startswith("http://127.0.0.1:")
            request = urllib.request.Request(  # noqa: S310 - local test server
                f"{url}/v1/customers", headers={"Authorization": "Bearer sk_test_cli"}
            )
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                assert json.loads(response.read())["object"] == "list"
            # The demo's account has saved its portal settings: one default configuration.
            request = urllib.request.Request(  # noqa: S310 - local test server
                f"{url}/v1/billing_portal/configurations",
                headers={"Authorization": "Bearer sk_test_cli"},
            )
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                [configuration] = json.loads(response.read())["data"]
            assert configuration["is_default"] is True
            assert configuration["features"]["subscription_cancel"]["enabled"] is False
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
    assert proc.returncode == 0
