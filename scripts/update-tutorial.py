#!/usr/bin/env python3
"""update-tutorial.py — rewrite the outputs shown in docs/tutorial.md from the real commands.

Every ```console block is re-run the way tests/docs/tutorial.sh checks it (one scratch
directory for all blocks, build/qinval linked there, stderr merged into stdout) and the lines
after each "$ COMMAND" are replaced by what the command printed, unless they differ only in
wall-clock durations. Prose is left alone: read the
diff afterwards for numbers the text quotes. Usage: scripts/update-tutorial.py build/qinval
[docs/tutorial.md]
"""
import os
import re
import subprocess
import sys
import tempfile


def masked(line):
    """A line as tutorial.sh compares it: wall-clock durations are not compared."""
    return re.sub(r"[0-9]+\.[0-9]{3} s([),]|$)", r"#.### s\1", line)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: update-tutorial.py path/to/qinval [tutorial.md]")
    qinval = os.path.realpath(sys.argv[1])
    doc = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(__file__), "..", "docs", "tutorial.md")
    lines = open(doc).read().split("\n")
    out, in_block = [], False
    with tempfile.TemporaryDirectory() as work:
        os.mkdir(os.path.join(work, "build"))
        os.symlink(qinval, os.path.join(work, "build", "qinval"))
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if not in_block:
                out.append(line)
                in_block = line == "```console"
                continue
            if line == "```":
                out.append(line)
                in_block = False
                continue
            if line.startswith("$ "):
                out.append(line)
                run = subprocess.run(["bash", "-c", line[2:]], cwd=work, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
                new = run.stdout.rstrip("\n").split("\n") if run.stdout else []
                old = []
                while i < len(lines) and lines[i] != "```" and not lines[i].startswith("$ "):
                    old.append(lines[i])
                    i += 1
                out.extend(old if list(map(masked, old)) == list(map(masked, new)) else new)
                continue
            out.append(line)
    open(doc, "w").write("\n".join(out))


if __name__ == "__main__":
    main()
