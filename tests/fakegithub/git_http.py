"""git's smart HTTP protocol, served by running `git http-backend` as a CGI program."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response


def _parse_cgi(output: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Split CGI output into status, headers and body."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, body = output.partition(separator)
        if found:
            break
    else:
        return 500, [], output
    status = 200
    headers: list[tuple[str, str]] = []
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            headers.append((name.strip(), value.strip()))
    return status, headers, body


async def serve_git(request: Request, bare: Path, rest: str) -> Response:
    """Answer one git smart-HTTP request (`info/refs`, `git-upload-pack`, `git-receive-pack`) for `bare`."""
    body = await request.body()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(bare.parent),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_PROJECT_ROOT": str(bare.parent),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{bare.name}/{rest}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.url.query,
        "CONTENT_TYPE": request.headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_USER": "x-access-token",  # authenticated above; enables receive-pack
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    if request.headers.get("content-encoding"):
        env["HTTP_CONTENT_ENCODING"] = request.headers["content-encoding"]
    if request.headers.get("git-protocol"):
        env["GIT_PROTOCOL"] = request.headers["git-protocol"]
    done = await asyncio.to_thread(
        subprocess.run, ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
    )
    status, headers, payload = _parse_cgi(done.stdout)
    response = Response(payload, status_code=status)
    for name, value in headers:
        if name.lower() != "content-length":
            response.headers[name] = value
    return response
