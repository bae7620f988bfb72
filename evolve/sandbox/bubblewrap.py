"""The bwrap command line for one run: what the sandbox sees, which namespaces it gets, which limits apply."""

from __future__ import annotations

import os
from pathlib import Path

from evolve.sandbox.spec import (
    SANDBOX_EGRESS_PORT,
    SANDBOX_EGRESS_SOCKET,
    SANDBOX_GID,
    SANDBOX_HOME,
    SANDBOX_OUT,
    SANDBOX_REPO,
    SANDBOX_TMP,
    SANDBOX_UID,
    SANDBOX_USER,
    SandboxSpec,
)

# The toolchain, read-only. On merged-/usr systems /bin, /lib... are symlinks into /usr and stay symlinks.
SYSTEM_DIRECTORIES = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The few host files of /etc a toolchain reads; never /etc as a whole (it holds keys, credentials, hosts).
HOST_ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/localtime",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/ca-certificates.conf",
    "/etc/pki",
    "/etc/alternatives",
    "/etc/mime.types",
)
# No /etc/resolv.conf, ever: the sandbox has no DNS; the egress proxy resolves the index's names itself.
NETWORK_ETC_FILES = ("/etc/services", "/etc/protocols")
PASSWD = (
    "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    f"{SANDBOX_USER}:x:{SANDBOX_UID}:{SANDBOX_GID}:Evolve sandbox:{SANDBOX_HOME}:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
GROUP = f"root:x:0:\n{SANDBOX_USER}:x:{SANDBOX_GID}:\nnogroup:x:65534:\n"
HOSTS = "127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost ip6-loopback\n"
NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"


# Inside the sandbox: socat listens on 127.0.0.1:SANDBOX_EGRESS_PORT and forwards each connection to the proxy's
# socket; the command starts once the port is listening (read from /proc/net/tcp with shell builtins only).
_LISTENING = f" 0100007F:{SANDBOX_EGRESS_PORT:04X} 00000000:0000 0A "
FORWARD_THEN_RUN = (
    'socat="$1"; shift; '
    f'"$socat" TCP-LISTEN:{SANDBOX_EGRESS_PORT},bind=127.0.0.1,reuseaddr,fork,nodelay UNIX-CONNECT:{SANDBOX_EGRESS_SOCKET} '
    "</dev/null >/dev/null 2>&1 & "
    'ready=; i=0; while [ -z "$ready" ] && [ $i -lt 1000 ]; do '
    f'while IFS= read -r line; do case "$line" in *"{_LISTENING}"*) ready=1; break;; esac; done </proc/net/tcp; '
    '[ -n "$ready" ] || sleep 0.005; i=$((i+1)); done; '
    '[ -n "$ready" ] || { echo "sandbox: the egress forwarder did not start" >&2; exit 127; }; '
    'exec "$@"'
)


def write_etc(directory: Path) -> dict[str, Path]:
    """Write the sandbox's own /etc files (a user of its own, loopback hosts) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {"passwd": PASSWD, "group": GROUP, "hosts": HOSTS, "nsswitch.conf": NSSWITCH, "hostname": "sandbox\n"}
    written = {}
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
        written[f"/etc/{name}"] = directory / name
    return written


def _system_mounts() -> list[str]:
    args: list[str] = []
    for path in SYSTEM_DIRECTORIES:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


# The namespaces, lifetime and capability settings every sandboxed command gets; the start-up probe
# (evolve.sandbox.support) tries exactly these, so "available" means "these work here".
ISOLATION_FLAGS = (
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
)


def bubblewrap_argv(
    bwrap: str,
    spec: SandboxSpec,
    *,
    scratch: Path,
    tree_copy: Path | None,
    environment: dict[str, str],
    seccomp_fd: int | None,
    egress_socket: Path | None = None,
    forwarder: str | None = None,
) -> list[str]:
    """The full bwrap command running `spec.argv`; `scratch` holds the run's generated files. With
    `egress_socket` (the proxy's) and `forwarder` (socat), the command starts behind the egress forwarder."""
    limits = spec.limits
    args = [
        bwrap,
        *ISOLATION_FLAGS,
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_GID),
        "--hostname",
        "sandbox",
    ]
    args += _system_mounts()
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(limits.tmp_bytes), "--tmpfs", SANDBOX_TMP]
    args += ["--size", str(limits.tmp_bytes), "--tmpfs", SANDBOX_HOME]
    args += ["--dir", "/etc"]
    for target, source in write_etc(scratch / "etc").items():
        args += ["--ro-bind", str(source), target]
    for path in HOST_ETC_FILES + (NETWORK_ETC_FILES if egress_socket is not None else ()):
        args += ["--ro-bind-try", path, path]
    if egress_socket is not None:
        args += ["--ro-bind", str(egress_socket), SANDBOX_EGRESS_SOCKET]
    for mount in spec.mounts:
        args += ["--bind" if mount.writable else "--ro-bind", str(mount.source), mount.target]
    if tree_copy is not None:
        args += ["--bind", str(tree_copy), SANDBOX_REPO]
    if spec.outputs is not None:
        args += ["--bind", str(spec.outputs), SANDBOX_OUT]
    args += ["--remount-ro", "/"]
    args += ["--clearenv"]
    for name, value in sorted(environment.items()):
        args += ["--setenv", name, value]
    args += ["--chdir", spec.workdir]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    argv = tuple(spec.argv)
    if egress_socket is not None and forwarder is not None:
        argv = ("/bin/sh", "-c", FORWARD_THEN_RUN, "evolve-egress", forwarder, *argv)
    return [*args, "--", *argv]
