#!/usr/bin/env python3
"""Write the handout of one lab from the instructors' tree.

    python3 labs/handout.py LAB DEST [--force]      (make handout LAB=n DEST=dir)

The repository is the instructors' tree: every lab, solved. Code that
belongs to a lab is marked with preprocessor conditionals:

    #if LAB >= 4          the layer exists from lab 4 on
    #if SOL >= 3          lab 3's solution ...
    #else                 ... or the stub students see
    #endif
    #if INSTRUCTOR        only in the instructors' tree (make test, ...)

The handout of lab N is the tree with LAB=N and SOL=N-1: labs before N
finished, lab N's stubs, nothing of later labs. C and assembly files go
through Debian's unifdef. Other text files (Makefile, Python, shell) carry
the same markers as comment lines; they go through unifdef too, but with
every line that is not one of our markers hidden from it first, so that an
ordinary comment such as "# if the port is busy" can never be taken for a
directive.

Whole files: labs/labK.md and grade/labK.py belong to lab K and are left out
for K > N; a file that comes out empty (wrapped whole in #if LAB >= K) is
left out; INSTRUCTOR_ONLY files never go in. The Makefile's "LAB ?= 8" and
"SOL ?= $(LAB)" lines become the handout's numbers.

The tree is written to a temporary directory beside DEST and renamed into
place only when complete, so a failure never leaves a half-written handout.
In Markdown files the marker lines are HTML comments, <!-- #if INSTRUCTOR -->,
so that they don't show when the file is rendered.

DEST must not exist or be empty, unless --force replaces it. Afterwards
every file is checked for leftover markers.
"""

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

NLABS = 8
C_SUFFIXES = (".c", ".h", ".S", ".ld")
TEXT_SUFFIXES = (".py", ".sh", ".awk", ".tmpl", ".txt", "")
INSTRUCTOR_ONLY = {"labs/handout.py", ".ci/run", "grade/maketest.py"}
LAB_FILE = re.compile(r"^(labs/lab|grade/lab)(\d+)\.(md|py)$")
MARKER_TEXT = r"#(?:if (?:LAB|SOL) >= \d+|if INSTRUCTOR|else|endif)"
MARKER = re.compile(r"^" + MARKER_TEXT + r"\b")
# In Markdown a marker line would render as a heading, so it is written as
# an HTML comment there: <!-- #if INSTRUCTOR --> ... <!-- #endif -->
MD_MARKER = re.compile(r"^<!-- (" + MARKER_TEXT + r") -->$", re.M)
LEFTOVER = re.compile(r"^\s*(<!--\s*)?#\s*(if|elif|ifdef|ifndef)\b.*\b(LAB|SOL|INSTRUCTOR)\b")
HIDE = "\x01"   # prefix that hides a line from unifdef


class HandoutError(Exception):
    pass


def tree_files(top):
    """Paths, relative to top, of the files git tracks or would track."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=top, check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise HandoutError(f"{top} is not a git checkout (the file list comes from git)")
    paths = sorted(set(p for p in out.decode().split("\0") if p))
    return [p for p in paths if os.path.isfile(os.path.join(top, p))]


def included(path, lab):
    if path in INSTRUCTOR_ONLY or path.startswith(".ci/"):
        return False
    m = LAB_FILE.match(path)
    return m is None or int(m.group(2)) <= lab


def unifdef(text, lab, plain):
    """Resolve the lab markers in text; plain=True for non-C files."""
    args = ["unifdef", f"-DLAB={lab}", f"-DSOL={lab - 1}", "-UINSTRUCTOR"]
    if plain:
        args.append("-t")
        text = "".join(l if MARKER.match(l) else HIDE + l
                       for l in text.splitlines(keepends=True))
    r = subprocess.run(args, input=text.encode(), capture_output=True)
    if r.returncode not in (0, 1):   # 0: unchanged, 1: changed, 2: trouble
        raise HandoutError(r.stderr.decode().strip().splitlines()[0])
    out = r.stdout.decode()
    if plain:
        out = "".join(l[1:] if l.startswith(HIDE) else l
                      for l in out.splitlines(keepends=True))
    return out


def set_makefile_lab(text, lab):
    """The handout's Makefile names its own lab."""
    for old, new in ((r"^LAB \?= \d+$", f"LAB := {lab}"),
                     (r"^SOL \?= \$\(LAB\)$", f"SOL := {lab - 1}")):
        text, n = re.subn(old, new, text, flags=re.M)
        if n != 1:
            raise HandoutError(f"Makefile: expected one line matching {old!r}")
    return text


def convert(path, data, lab):
    """The handout's version of one file, or None to leave it out."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return data                       # binary: copied as it is
    if path.endswith(C_SUFFIXES):
        text = unifdef(text, lab, plain=False)
    elif path.endswith(".md"):
        text = unifdef(MD_MARKER.sub(r"\1", text), lab, plain=True)
    elif path == "Makefile" or path.endswith(TEXT_SUFFIXES):
        text = unifdef(text, lab, plain=True)
    if path == "Makefile":
        text = set_makefile_lab(text, lab)
    for n, line in enumerate(text.splitlines(), 1):
        if LEFTOVER.match(line):
            raise HandoutError(f"{path}:{n}: a lab marker is left over: {line.strip()}")
    if not text.strip():
        return None
    return text.encode()


def write_tree(top, lab, dest):
    files = [p for p in tree_files(top) if included(p, lab)]
    for path in files:
        src = os.path.join(top, path)
        with open(src, "rb") as f:
            out = convert(path, f.read(), lab)
        if out is None:
            continue
        dst = os.path.join(dest, path)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(out)
        os.chmod(dst, stat.S_IMODE(os.stat(src).st_mode))


def make_handout(top, lab, dest, force):
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise HandoutError(f"{dest} exists and is not a directory")
    if os.path.isdir(dest) and os.listdir(dest) and not force:
        raise HandoutError(f"{dest} is not empty (use --force, or FORCE=1, to replace it)")
    parent = os.path.dirname(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".handout-", dir=parent)
    try:
        write_tree(top, lab, tmp)
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def parse_lab(s):
    if not re.fullmatch(r"\d+", s) or not 1 <= int(s) <= NLABS:
        raise HandoutError(f"LAB={s!r} is not a lab number from 1 to {NLABS}")
    return int(s)


def main(argv):
    args = [a for a in argv if a != "--force"]
    if len(args) != 2:
        print("usage: handout.py LAB DEST [--force]", file=sys.stderr)
        return 2
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        lab = parse_lab(args[0])
        if shutil.which("unifdef") is None:
            raise HandoutError("unifdef is not installed (run tools/setup.sh)")
        make_handout(top, lab, args[1], "--force" in argv)
    except HandoutError as e:
        print(f"handout: {e}", file=sys.stderr)
        return 2 if "not a lab number" in str(e) else 1
    print(f"handout: lab {lab} written to {args[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
