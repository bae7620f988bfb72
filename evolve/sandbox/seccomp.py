"""The seccomp filter bubblewrap installs: refuse the system calls that leave or widen a sandbox.

bwrap's `--seccomp FD` takes a compiled classic-BPF program. No maintained Python binding of libseccomp is
installable from PyPI, so the (short, fixed) program is assembled here: check the architecture, then return
EPERM for each refused call; everything else is allowed. `clone` is refused only with namespace flags, and
`clone3` (whose flags sit behind a pointer BPF cannot read) answers ENOSYS so libc falls back to `clone`.
"""

from __future__ import annotations

import errno
import platform
import struct

# <linux/filter.h> / <linux/seccomp.h> / <linux/audit.h>
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JSET_K = 0x45
_BPF_JGE_K = 0x35
_BPF_RET_K = 0x06
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_SECCOMP_RET_KILL_PROCESS = 0x80000000
_OFFSET_NR, _OFFSET_ARCH, _OFFSET_ARG0_LOW = 0, 4, 16
_X32_SYSCALL_BIT = 0x40000000
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
_CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80

# Refused everywhere: entering or making namespaces, mounting, tracing other processes, the kernel keyring,
# loading kernel code or BPF, rebooting, swapping, changing the clock, and the userfaultfd/perf exploit aids.
REFUSED_CALLS = (
    "setns",
    "unshare",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "name_to_handle_at",
    "open_by_handle_at",
    "lookup_dcookie",
    "iopl",
    "ioperm",
)

_ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (
        0xC000003E,
        {
            "setns": 308,
            "unshare": 272,
            "mount": 165,
            "umount2": 166,
            "pivot_root": 155,
            "chroot": 161,
            "move_mount": 429,
            "open_tree": 428,
            "fsopen": 430,
            "fsconfig": 431,
            "fsmount": 432,
            "fspick": 433,
            "mount_setattr": 442,
            "ptrace": 101,
            "process_vm_readv": 310,
            "process_vm_writev": 311,
            "kcmp": 312,
            "keyctl": 250,
            "add_key": 248,
            "request_key": 249,
            "bpf": 321,
            "perf_event_open": 298,
            "userfaultfd": 323,
            "init_module": 175,
            "finit_module": 313,
            "delete_module": 176,
            "kexec_load": 246,
            "kexec_file_load": 320,
            "reboot": 169,
            "swapon": 167,
            "swapoff": 168,
            "acct": 163,
            "quotactl": 179,
            "settimeofday": 164,
            "clock_settime": 227,
            "clock_adjtime": 305,
            "adjtimex": 159,
            "name_to_handle_at": 303,
            "open_by_handle_at": 304,
            "lookup_dcookie": 212,
            "iopl": 172,
            "ioperm": 173,
            "clone": 56,
            "clone3": 435,
        },
    ),
    "aarch64": (
        0xC00000B7,
        {
            "setns": 268,
            "unshare": 97,
            "mount": 40,
            "umount2": 39,
            "pivot_root": 41,
            "chroot": 51,
            "move_mount": 429,
            "open_tree": 428,
            "fsopen": 430,
            "fsconfig": 431,
            "fsmount": 432,
            "fspick": 433,
            "mount_setattr": 442,
            "ptrace": 117,
            "process_vm_readv": 270,
            "process_vm_writev": 271,
            "kcmp": 272,
            "keyctl": 219,
            "add_key": 217,
            "request_key": 218,
            "bpf": 280,
            "perf_event_open": 241,
            "userfaultfd": 282,
            "init_module": 105,
            "finit_module": 273,
            "delete_module": 106,
            "kexec_load": 104,
            "kexec_file_load": 294,
            "reboot": 142,
            "swapon": 224,
            "swapoff": 225,
            "acct": 89,
            "quotactl": 60,
            "settimeofday": 170,
            "clock_settime": 112,
            "clock_adjtime": 266,
            "adjtimex": 171,
            "name_to_handle_at": 264,
            "open_by_handle_at": 265,
            "lookup_dcookie": 18,
            "clone": 220,
            "clone3": 435,
        },
    ),
}


def _instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF)


def seccomp_supported(machine: str | None = None) -> bool:
    """Whether a filter can be built for this machine's architecture."""
    return (machine or platform.machine()) in _ARCHES


def seccomp_program(machine: str | None = None) -> bytes:
    """The compiled filter for `machine` (default: this one). Raises ValueError for an unknown architecture."""
    machine = machine or platform.machine()
    if machine not in _ARCHES:
        raise ValueError(f"no seccomp filter for architecture {machine!r}")
    audit_arch, numbers = _ARCHES[machine]
    refused = [numbers[name] for name in REFUSED_CALLS if name in numbers]
    eperm = _SECCOMP_RET_ERRNO | errno.EPERM
    program = [
        _instruction(_BPF_LD_W_ABS, 0, 0, _OFFSET_ARCH),
        _instruction(_BPF_JEQ_K, 1, 0, audit_arch),
        _instruction(_BPF_RET_K, 0, 0, _SECCOMP_RET_KILL_PROCESS),  # another ABI (i386 on x86_64): never
        _instruction(_BPF_LD_W_ABS, 0, 0, _OFFSET_NR),
    ]
    if machine == "x86_64":  # the x32 ABI shares the architecture value; its numbers carry this bit
        program += [_instruction(_BPF_JGE_K, 0, 1, _X32_SYSCALL_BIT), _instruction(_BPF_RET_K, 0, 0, eperm)]
    for number in refused:
        program += [_instruction(_BPF_JEQ_K, 0, 1, number), _instruction(_BPF_RET_K, 0, 0, eperm)]
    program += [
        _instruction(_BPF_JEQ_K, 0, 1, numbers["clone3"]),
        _instruction(_BPF_RET_K, 0, 0, _SECCOMP_RET_ERRNO | errno.ENOSYS),
        _instruction(_BPF_JEQ_K, 0, 3, numbers["clone"]),
        _instruction(_BPF_LD_W_ABS, 0, 0, _OFFSET_ARG0_LOW),
        _instruction(_BPF_JSET_K, 0, 1, _CLONE_NAMESPACE_FLAGS),
        _instruction(_BPF_RET_K, 0, 0, eperm),
        _instruction(_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW),
    ]
    return b"".join(program)
