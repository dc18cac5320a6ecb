"""Command line of the sandbox (``gtm-sandbox`` / ``python -m airflow_provider_gtm.sandbox``)."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from typing import Any

from airflow_provider_gtm.sandbox.server import SANDBOX_CREDENTIALS, SandboxServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gtm-sandbox",
        description="Local stand-in for Octy, CustomerOS, Octopus Community Connect and Oktopost on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8790, help="TCP port (0 picks a free one; default 8790)")
    parser.add_argument("--records", type=int, default=250, help="records per synthetic list (default 250)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the synthetic data (default 42)")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="run the sandbox clock this many times faster than real time (default 1)")
    parser.add_argument("--no-rate-limits", action="store_true", help="never answer 429 for rate limits")
    parser.add_argument("--faults", default=None,
                        help='fault rules as JSON, e.g. \'[{"api": "octy", "path": "/v1/retention/profiles", '
                             '"kind": "status", "status": 503, "calls": [2]}]\'')
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def describe(server: SandboxServer) -> str:
    lines = [f"GTM sandbox listening on {server.url}", ""]
    for conn_id, conn in server.connections().items():
        login = f" login={conn['login']}" if conn.get("login") else ""
        lines.append(f"  {conn_id:<24} {conn['host']}{login} password={conn['password']}")
    lines += ["", f"  control: {server.url}/_sandbox/state | /reset | /faults | /config", "",
              "Environment for Airflow (copy into your shell):"]
    lines += [f"  export {name}='{value}'" for name, value in server.connection_env().items()]
    lines += ["", "Ctrl-C stops it."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    faults: list[dict[str, Any]] = json.loads(args.faults) if args.faults else []
    server = SandboxServer(port=args.port, records=args.records, seed=args.seed, time_scale=args.time_scale,
                           rate_limits=not args.no_rate_limits, faults=faults, verbose=args.verbose)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with server:
        print(describe(server), flush=True)
        while not stop.wait(0.5):
            pass
    print("GTM sandbox stopped.", flush=True)
    return 0


__all__ = ["SANDBOX_CREDENTIALS", "build_parser", "main"]
