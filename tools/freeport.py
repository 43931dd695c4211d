#!/usr/bin/env python3
"""Print a free TCP port on 127.0.0.1, optionally remembered in a file.

    tools/freeport.py            print a port that is free right now
    tools/freeport.py FILE       print the port stored in FILE; if FILE is
                                 missing or does not hold a port number,
                                 choose a free port, store it in FILE, print it

This is how the Makefile picks GDBPORT: `make qemu-gdb` (QEMU's gdbstub) and
`make gdb` (GDB's `target remote`) run in two terminals and must agree on a
port, and two checkouts (or two users) on one machine must not collide. So
the port is chosen once per checkout, in .gdbport, and kept from then on.

How a port is chosen: bind a socket to 127.0.0.1 port 0, which makes the
kernel pick an unused port, read the number back, and close the socket. The
port is free at that moment; nothing reserves it afterwards, which is the
best any picker can do (QEMU binds it moments later).

A stored port is kept even when it is in use right now: the likeliest user
is our own QEMU from `make qemu-gdb`, waiting for `make gdb` to attach.

FILE is written atomically (a temporary file in the same directory, then a
rename), so a reader never sees half a number. When two runs race to create
FILE, the first one to link its file in place wins and both print its port.

Exit status: 0 on success, 1 if FILE cannot be written or no port can be
had, 2 on a usage error. Errors are one line on stderr.
"""

import os
import socket
import sys
import tempfile

PROG = "freeport"
USAGE = "usage: tools/freeport.py [FILE]"


def free_port():
    """Ask the OS for a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_port(path):
    """The port number stored in path, or None if it holds no valid port."""
    try:
        with open(path, "r", encoding="ascii", errors="replace") as f:
            text = f.read(64).strip()
    except OSError:
        return None
    if not text.isdigit() or not text.isascii():
        return None
    port = int(text)
    return port if 1 <= port <= 65535 else None


def store_port(path, port):
    """Write port to path atomically; return the port path ends up holding.

    The new file is first written under a temporary name. If path does not
    exist yet, it is hard-linked into place, which fails if another run
    created path meanwhile: then that run's port wins. If path exists (with
    invalid content) or the file system has no hard links, it is renamed
    over path.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".freeport-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            os.fchmod(f.fileno(), 0o644)  # mkstemp makes it 0600
            f.write("%d\n" % port)
        try:
            os.link(tmp, path)
            return port
        except FileExistsError:
            other = read_port(path)
            if other is not None:
                return other
        except OSError:
            pass  # no hard links here: fall back to rename
        os.replace(tmp, path)
        return port
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def main(argv):
    args = argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if len(args) > 1 or (args and (args[0] == "" or args[0].startswith("-"))):
        print("%s: %s" % (PROG, USAGE), file=sys.stderr)
        return 2

    if not args:
        try:
            print(free_port())
        except OSError as e:
            print("%s: cannot get a free port: %s" % (PROG, e.strerror or e), file=sys.stderr)
            return 1
        return 0

    path = args[0]
    if os.path.isdir(path):
        print("%s: %s is a directory, not a file" % (PROG, path), file=sys.stderr)
        return 2
    port = read_port(path)
    if port is None:
        try:
            port = store_port(path, free_port())
        except OSError as e:
            print("%s: cannot write %s: %s" % (PROG, path, e.strerror or e), file=sys.stderr)
            return 1
    print(port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
