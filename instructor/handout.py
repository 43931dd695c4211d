#!/usr/bin/env python3
"""Write the handout of one lab from the instructors' tree.

    python3 instructor/handout.py LAB DEST [--force]      (make handout LAB=n DEST=dir)

The repository is the instructors' tree: every lab, solved. Code that
belongs to a lab is marked with preprocessor conditionals, never nested:

    #if SOL >= 3          lab 3's solution, around a whole function body ...
    #else                 ... or the stub students see
    #endif
    #if LAB >= 6          one whole statement by which a later layer hooks
    #endif                into an earlier file
    #if INSTRUCTOR        only in the instructors' tree (make test, ...)

Whole files belong to the lab that labs/manifest names ("new N PATH"), or
to lab 1; everything under instructor/ and .ci/ stays out of every handout.

The handout of lab N is the tree with LAB=N and SOL=N-1: labs before N
finished, lab N's stubs, nothing of later labs. C and assembly files go
through Debian's unifdef. Other text files (Makefile, Python, shell) carry
the same markers as comment lines; they go through unifdef too, but with
every line that is not one of our markers hidden from it first, so that an
ordinary comment such as "# if the port is busy" can never be taken for a
directive. In Markdown the marker lines are HTML comments,
<!-- #if INSTRUCTOR -->, so that they don't show when the file is rendered.
The Makefile's "LAB ?= 8" and "SOL ?= $(LAB)" lines become the handout's
numbers, and labs/manifest keeps the lines of labs up to N.

Refused, each with one line naming file and line: a marker nested in
another, LAB or SOL used anywhere in C but on a marker line (an expression
such as "#if SOL >= 2 && X", or "x = LAB"), a marker left over afterwards.
Refused too: a lab with no labs/labN.md, and a DEST that is the source
tree, inside it (but for a folder git ignores) or above it. DEST must not
exist or be empty; --force replaces only an earlier handout.

The tree is written to a temporary directory beside DEST and renamed into
place only when complete, so a failure never leaves a half-written handout.
"""

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "grade"))
from gradelib import GradeError, Manifest          # noqa: E402

NLABS = 8
C_SUFFIXES = (".c", ".h", ".S", ".ld")
TEXT_SUFFIXES = (".py", ".sh", ".awk", ".tmpl", ".txt", "")
INSTRUCTOR_ONLY = ("instructor/", ".ci/")
MARKER_TEXT = r"#(?:if (?:LAB|SOL) >= \d+|if INSTRUCTOR|else|endif)"
MARKER = re.compile(r"^" + MARKER_TEXT + r"\b")
OPENS = re.compile(r"^#if (?:(?:LAB|SOL) >= \d+|INSTRUCTOR)$")
# In Markdown a marker line would render as a heading, so it is written as
# an HTML comment there: <!-- #if INSTRUCTOR --> ... <!-- #endif -->
MD_MARKER = re.compile(r"^<!-- (" + MARKER_TEXT + r") -->$", re.M)
LEFTOVER = re.compile(r"^\s*(<!--\s*)?#\s*(if|elif|ifdef|ifndef)\b.*\b(LAB|SOL|INSTRUCTOR)\b")
C_CONDITIONAL = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b")
C_LAB_WORD = re.compile(r"\b(LAB|SOL|INSTRUCTOR)\b")
C_COMMENT = re.compile(r"//.*|/\*.*?(\*/|$)|^\s*\*.*")
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


def lab_word_outside_marker(path, line):
    """Does this C line use LAB, SOL or INSTRUCTOR other than as a marker?
    Conditionals are checked in every C-like file; code (comments removed)
    in .c and .h files, where "x = LAB" could hide."""
    if MARKER.match(line):
        return False
    if C_CONDITIONAL.match(line):
        return C_LAB_WORD.search(line) is not None
    return path.endswith((".c", ".h")) and C_LAB_WORD.search(C_COMMENT.sub("", line)) is not None


def check_markers(path, text):
    """Refuse nested markers, and in C a lab word anywhere but a marker line."""
    is_c = path.endswith(C_SUFFIXES)
    stack = []                  # for each open conditional: is it one of ours?
    for n, line in enumerate(text.splitlines(), 1):
        if is_c and lab_word_outside_marker(path, line):
            raise HandoutError(f"{path}:{n}: LAB, SOL or INSTRUCTOR outside a whole-line "
                               f"marker: {line.strip()}")
        word = C_CONDITIONAL.match(line) if is_c else MARKER.match(line) and \
            re.match(r"#(\w+)", line)
        if not word:
            continue
        kind = word.group(1)
        if kind.startswith("if"):
            ours = OPENS.match(line.rstrip()) is not None
            if ours and any(stack):
                raise HandoutError(f"{path}:{n}: a lab marker nested in another: {line.strip()}")
            stack.append(ours)
        elif kind == "endif" and stack:
            stack.pop()


def unifdef(text, lab, sol, plain):
    """Resolve the lab markers in text; plain=True for non-C files."""
    args = ["unifdef", f"-DLAB={lab}", f"-DSOL={sol}", "-UINSTRUCTOR"]
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


def convert(path, data, lab, sol, manifest):
    """The version of one file for LAB=lab, SOL=sol, or None to leave it out."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return data                       # binary: copied as it is
    if path.endswith(".md"):
        text = MD_MARKER.sub(r"\1", text)
    check_markers(path, text)
    if path.endswith(C_SUFFIXES):
        text = unifdef(text, lab, sol, plain=False)
    elif path == "Makefile" or path.endswith(TEXT_SUFFIXES + (".md",)):
        text = unifdef(text, lab, sol, plain=True)
    if path == "Makefile":
        text = set_makefile_lab(text, lab)
    if path == "labs/manifest":
        text = "".join(line for n, line in manifest.lines if n is None or n <= lab)
    for n, line in enumerate(text.splitlines(), 1):
        if LEFTOVER.match(line):
            raise HandoutError(f"{path}:{n}: a lab marker is left over: {line.strip()}")
    if not text.strip():
        return None
    return text.encode()


def handout_files(top, lab, manifest):
    """The paths of the instructors' tree that lab's handout holds."""
    return [p for p in tree_files(top)
            if not p.startswith(INSTRUCTOR_ONLY) and manifest.lab_of(p) <= lab]


def write_tree(top, lab, dest):
    manifest = Manifest(top)
    for path in handout_files(top, lab, manifest):
        src = os.path.join(top, path)
        with open(src, "rb") as f:
            out = convert(path, f.read(), lab, lab - 1, manifest)
        if out is None:
            continue
        dst = os.path.join(dest, path)
        os.makedirs(os.path.dirname(dst), mode=0o755, exist_ok=True)
        with open(dst, "wb") as f:
            f.write(out)
        os.chmod(dst, stat.S_IMODE(os.stat(src).st_mode))


def ignored_by_git(top, path):
    r = subprocess.run(["git", "check-ignore", "-q", "--no-index", os.path.relpath(path, top)],
                       cwd=top, capture_output=True)
    return r.returncode == 0


def is_handout(path):
    """Does path hold a handout this generator wrote (its Makefile says LAB := n)?"""
    try:
        with open(os.path.join(path, "Makefile")) as f:
            return re.search(r"^LAB := \d+$", f.read(), re.M) is not None
    except OSError:
        return False


def check_dest(top, dest, force):
    """Refuse a DEST that could destroy the source tree or someone's files."""
    real = os.path.realpath(dest)
    if real == top or top.startswith(real + os.sep) or real == os.sep:
        raise HandoutError(f"DEST {dest} is the source tree or holds it")
    if real.startswith(top + os.sep) and not ignored_by_git(top, real):
        raise HandoutError(f"DEST {dest} is inside the source tree (only a folder git ignores may be)")
    if os.path.lexists(dest) and not os.path.isdir(dest):
        raise HandoutError(f"DEST {dest} exists and is not a directory")
    if os.path.isdir(dest) and os.listdir(dest):
        if not force:
            raise HandoutError(f"DEST {dest} is not empty (FORCE=1 replaces an earlier handout)")
        if os.path.islink(dest) or not is_handout(dest):
            raise HandoutError(f"DEST {dest} is not empty and holds no handout: not replaced")


def make_handout(top, lab, dest, force):
    check_dest(top, dest, force)
    parent = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(parent) and os.path.lexists(parent):
        raise HandoutError(f"DEST {dest}: {parent} is not a directory")
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".handout-", dir=parent)
    except OSError as e:
        raise HandoutError(f"cannot write in {parent}: {e.strerror}")
    try:
        os.chmod(tmp, 0o755)
        write_tree(top, lab, tmp)
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def parse_lab(top, s):
    if not re.fullmatch(r"\d+", s) or not 1 <= int(s) <= NLABS:
        raise HandoutError(f"LAB={s!r} is not a lab number from 1 to {NLABS}")
    if not os.path.isfile(os.path.join(top, "labs", f"lab{s}.md")):
        raise HandoutError(f"LAB={s}: there is no lab {s} yet (no labs/lab{s}.md)")
    return int(s)


def main(argv):
    args = [a for a in argv if a != "--force"]
    if len(args) != 2 or not args[1]:
        print("usage: handout.py LAB DEST [--force]", file=sys.stderr)
        return 2
    try:
        lab = parse_lab(TOP, args[0])
        if shutil.which("unifdef") is None:
            raise HandoutError("unifdef is not installed (run tools/setup.sh)")
        make_handout(TOP, lab, args[1], "--force" in argv)
    except (HandoutError, GradeError) as e:
        print(f"handout: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"handout: {e.filename or args[1]}: {e.strerror}", file=sys.stderr)
        return 1
    print(f"handout: lab {lab} written to {args[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
