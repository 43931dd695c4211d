#!/usr/bin/env python3
"""Print a TCP port that is free on 127.0.0.1 now; with FILE, the port kept in
FILE, chosen and stored when FILE is missing or holds none (so that `make
qemu-gdb` and `make gdb`, in two terminals, agree). gradelib imports free_port.

    usage: tools/freeport.py [FILE]"""

import socket
import sys


def free_port():
    """A port the OS says is free right now (nothing reserves it after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kept_port(path):
    """The port stored in path, or a free one, stored there, if it holds none."""
    try:
        with open(path) as f:
            port = int(f.read(16))
    except (OSError, ValueError):
        port = 0
    if not 0 < port < 65536:
        port = free_port()
        with open(path, "w") as f:
            f.write("%d\n" % port)
    return port


if __name__ == "__main__":
    if len(sys.argv) > 2 or sys.argv[1:] and sys.argv[1].startswith("-"):
        sys.exit("freeport: usage: tools/freeport.py [FILE]")
    try:
        print(kept_port(sys.argv[1]) if sys.argv[1:] else free_port())
    except OSError as e:
        sys.exit("freeport: %s: %s" % (e.filename or "127.0.0.1", e.strerror))
