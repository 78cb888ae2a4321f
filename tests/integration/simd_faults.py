#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fault injection on live drbd-simd processes (issue #5, on-io-error): the
daemon's --enable-faults / --fault-rate / --fault-devs (the module's
enable_faults, fault_rate, fault_devs parameters) make every data write of
the Primary's minor 0 fail as a broken disk would ("***Simulating Data
write failure"). With on-io-error call-local-io-error the disk goes Failed
and Diskless, the local-io-error handler runs (through drbdadm, as the
module runs it), the write still succeeds on the peer, and the Primary keeps
serving writes and reads diskless through its peer; the peer's backing file
holds the data. Also: the same parameters set at run time through
--fault-file and SIGHUP, with on-io-error detach. Clients: qemu-io.
"""

import os
import shutil
import signal
import sys

from simd_harness import Cluster, disk_state, expect, main, qemu_io, up_synced_primary

MIB = 1 << 20


def up(c, disk, handlers=None):
    up_synced_primary(c, 16, disk=disk, handlers=handlers)


def image_bytes(node, offset, length):
    with open(node.disks[0], "rb") as f:
        f.seek(offset)
        return f.read(length)


def check_detached_and_served(c, alpha, beta):
    c.wait("alpha Diskless", lambda: disk_state(alpha, "r0") == "Diskless")
    log = open(alpha.log).read()
    expect("drbd r0/0 drbd0: ***Simulating Data write failure" in log, "no fault logged")
    expect("Local IO failed in drbd_request_endio. Detaching..." in log, "no detach logged")
    # Diskless Primary: IO goes through beta.
    qemu_io(alpha, f"write -P 0x6b {4 * MIB} {MIB}", "flush")
    qemu_io(alpha, f"read -P 0x5a 0 {MIB}", f"read -P 0x6b {4 * MIB} {MIB}")
    expect(image_bytes(beta, 0, MIB) == b"\x5a" * MIB, "beta lacks the first write")
    expect(image_bytes(beta, 4 * MIB, MIB) == b"\x6b" * MIB, "beta lacks the diskless write")
    expect(disk_state(beta, "r0") == "UpToDate", "beta not UpToDate")


def t_data_write_faults_detach_and_call_local_io_error(args):
    with Cluster(args, ["alpha", "beta"]) as c:
        alpha, beta = c.nodes
        marker = os.path.join(c.dir, "local-io-error.alpha")
        c.drbdadm_helper("--helper-timeout", "30000")
        # Data writes (bit 4) of minor 0 (bit 0) fail every time.
        alpha.extra_args += ["--enable-faults", "16", "--fault-rate", "100", "--fault-devs", "1"]
        up(c, "on-io-error call-local-io-error;",
           {"local-io-error": f"echo $DRBD_MINOR >> {marker}"})
        qemu_io(alpha, f"write -P 0x5a 0 {MIB}", "flush")  # acknowledged: beta has it
        check_detached_and_served(c, alpha, beta)
        c.wait("local-io-error handler", lambda: os.path.exists(marker))
        expect(open(marker).read().split() == ["0"], f"handler calls: {open(marker).read()!r}")


def t_fault_file_and_sighup_at_run_time(args):
    with Cluster(args, ["alpha", "beta"]) as c:
        alpha, beta = c.nodes
        params = os.path.join(c.dir, "faults.alpha")
        alpha.extra_args += ["--fault-file", params]
        up(c, "on-io-error detach;")
        qemu_io(alpha, f"write -P 0x11 {8 * MIB} {MIB}", "flush")
        expect(disk_state(alpha, "r0") == "UpToDate", "faulted without parameters")
        with open(params, "w") as f:
            f.write("enable_faults=0x10\nfault_rate=100\nfault_devs=0\n")
        alpha.proc.send_signal(signal.SIGHUP)
        c.wait("parameters applied",
               lambda: "fault injection: enable_faults=0x10 fault_rate=100 fault_devs=0x0"
               in open(alpha.log).read())
        qemu_io(alpha, f"write -P 0x5a 0 {MIB}", "flush")
        check_detached_and_served(c, alpha, beta)
        expect(image_bytes(beta, 8 * MIB, MIB) == b"\x11" * MIB, "beta lacks the early write")


def check():
    return None if shutil.which("qemu-io") else "qemu-io (qemu-utils) not installed"


if __name__ == "__main__":
    sys.exit(main(__doc__, [t_data_write_faults_detach_and_call_local_io_error,
                            t_fault_file_and_sighup_at_run_time], check=check))
