#!/usr/bin/env python3
"""Run QEMU on this terminal for `make qemu` and `make bench`:

    tools/runqemu.py QEMU-COMMAND...

The console passes through untouched (stdin is QEMU's own). Two things a
bare QEMU would not say, this does:
  - QEMU reports an internal error (KVM's "emulation failure") and then
    pauses the machine for ever: it is ended at once, with its message.
  - QEMU runs with -no-reboot, so a reset of the machine (a triple fault:
    the kernel never resets it on purpose) ends it with status 0, as Ctrl-A X
    and a signal do; but those two say so, and a reset does not.
The exit status is 0, or 1 after a triple fault or a stopped machine.
"""

import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "grade"))
from gradelib import QEMU_STOPPED                   # noqa: E402

QUIT = (b"QEMU: Terminated", b"terminating on signal")


def main(argv):
    if not argv:
        print("usage: tools/runqemu.py QEMU-COMMAND...", file=sys.stderr)
        return 2
    qemu = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = {"out": b"", "err": b""}
    stopped = threading.Event()

    def relay(pipe, to, key):
        while True:
            chunk = os.read(pipe.fileno(), 4096)
            if not chunk:
                return
            os.write(to.fileno(), chunk)
            seen[key] = (seen[key] + chunk)[-8192:]
            if key == "err" and QEMU_STOPPED.search(seen[key].decode(errors="replace")):
                stopped.set()

    threads = [threading.Thread(target=relay, args=(qemu.stdout, sys.stdout, "out"), daemon=True),
               threading.Thread(target=relay, args=(qemu.stderr, sys.stderr, "err"), daemon=True)]
    for t in threads:
        t.start()
    try:
        while qemu.poll() is None:
            if stopped.wait(0.2):
                stopped.wait(0.5)       # the rest of QEMU's message
                qemu.kill()
                qemu.wait()
                print("\n*** QEMU stopped the machine (above: what it said); ended it",
                      file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        qemu.kill()
    status = qemu.wait()
    for t in threads:
        t.join(timeout=2)
    if status == 0 and not any(q in seen["out"] + seen["err"] for q in QUIT):
        print("*** the machine reset: triple fault (QEMU runs with -no-reboot)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
