"""Benchmark: what the egress proxy's data path costs one download, apart from any build.

    python benchmarks/bench_egress_proxy.py [URL ...] [--repeat N]

Fetches each URL (default: one simple-index page and one ~17 MB wheel from PyPI) with curl, alternately direct and
through the same path a sandboxed install takes (socat TCP→Unix socket → `EgressProxy` → the index), and prints
the best and median seconds of each and the ratio of the best times, against TARGETS.md's "the egress proxy adds
under 10% to a cold build" (a build is many such downloads plus work the proxy does not touch). Needs curl and
socat; contacts only the package index.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evolve.sandbox import policy_for
from evolve.sandbox.egress_proxy import EgressProxy

DEFAULT_URLS = (
    "https://pypi.org/simple/iniconfig/",
    "https://files.pythonhosted.org/packages/b3/dd/2238b898e51bd6d389b7389ffb20d7f4c10066d80351187ec8e303a5a475/"
    "numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
)
TARGET = 1.10
SLACK_SECONDS = 0.05  # a process start's jitter: below this, a difference is not the proxy's


def fetch(url: str, proxy: str | None) -> float:
    """Seconds curl takes to download `url` (through `proxy` when given)."""
    argv = ["curl", "-sf", "-o", "/dev/null", *(["--proxy", proxy] if proxy else []), url]
    started = time.monotonic()
    subprocess.run(argv, check=True)
    return time.monotonic() - started


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("urls", nargs="*", default=list(DEFAULT_URLS))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="evolve-bench-egress-"))
    verdicts = []
    with EgressProxy(policy_for(None, None), scratch / "egress.sock") as proxy:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        forwarder = subprocess.Popen(
            ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,nodelay", f"UNIX-CONNECT:{proxy.path}"]
        )
        time.sleep(0.3)
        try:
            for url in args.urls:
                direct, proxied = [], []
                for _ in range(args.repeat):
                    direct.append(fetch(url, None))
                    proxied.append(fetch(url, f"http://127.0.0.1:{port}"))
                ok = min(proxied) <= min(direct) * TARGET + SLACK_SECONDS
                verdicts.append(ok)
                print(
                    f"{url.rsplit('/', 2)[-2] if url.endswith('/') else url.rsplit('/', 1)[-1]}: "
                    f"direct best {min(direct):.3f}s median {statistics.median(direct):.3f}s; "
                    f"proxied best {min(proxied):.3f}s median {statistics.median(proxied):.3f}s; "
                    f"×{min(proxied) / min(direct):.2f}: {'PASS' if ok else 'FAIL'}"
                )
        finally:
            forwarder.kill()
            forwarder.wait()
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
