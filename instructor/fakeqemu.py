#!/usr/bin/env python3
"""A stand-in for qemu-system-x86_64 that plays a bad KVM host, for make
test (instructor/maketest.py): `make QEMU=instructor/fakeqemu.py` with
FAKE_KVM set to

  fail   under -accel kvm: the kernel boots (run by TCG) until its first
         line after "kestrel:", then QEMU says what a nested KVM says at
         the first clac ("KVM internal error. Suberror: 1 / emulation
         failure") and pauses the machine for ever, as QEMU 7.2 does;
  slow   under -accel kvm: 3 s of silence first (SeaBIOS under nested KVM);
  fast   under -accel tcg: 2 s of silence first, so that KVM is faster.

Everything else runs the real QEMU, with TCG.
"""

import os
import subprocess
import sys
import time

argv = ["qemu-system-x86_64"] + sys.argv[1:]
mode = os.environ.get("FAKE_KVM", "")
kvm = "kvm" in argv[argv.index("-accel") + 1] if "-accel" in argv else False
if kvm:
    argv[argv.index("-accel") + 1] = "tcg"
if (mode == "slow" and kvm) or (mode == "fast" and not kvm):
    time.sleep(3 if kvm else 2)
if mode != "fail" or not kvm:
    os.execvp(argv[0], argv)
qemu = subprocess.Popen(argv, stdout=subprocess.PIPE)
seen = b""
while b"kestrel: running" not in seen:
    line = qemu.stdout.readline()
    if not line:
        break
    seen += line
    sys.stdout.buffer.write(line)
    sys.stdout.flush()
qemu.kill()
sys.stderr.write("KVM internal error. Suberror: 1\nextra data[0]: 0x0000000000000000\n"
                 "emulation failure\nRAX=0000000000000000 RBX=0000000000000000\n")
sys.stderr.flush()
while True:
    time.sleep(60)          # paused, as QEMU is after an internal error
