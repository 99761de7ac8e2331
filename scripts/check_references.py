#!/usr/bin/env python3
"""Checks the citations of docs/references.md across the tree.

    python3 scripts/check_references.py

No build, a second or so. Exit 1, with file:line and what is wrong, when:
- a citation "docs/references.md, <name>" names no heading of that file
  (the name runs to the first character that cannot be in a heading, so a
  citation wrapped across two lines is caught too), or a line ends just
  after "docs/references.md," with the name on the next line;
- a file outside the list at the end of docs/references.md ("Files that
  still say REFERENCE.md") cites REFERENCE.md, the old external notes;
- an entry (a "###" heading) lacks its Status or Used in, or two headings
  are the same;
- a "Used in" item names a file that does not exist, or an item in
  backticks whose words (identifiers of 3+ characters) are not all in
  that file;
- a file cites an entry whose "Used in" does not list that file (for a
  "##" heading: none of its entries lists it).
Files are those git tracks (all files under the root outside git).
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFS = "docs/references.md"
# Files that may still say REFERENCE.md, and why: see the section "Files
# that still say REFERENCE.md" of docs/references.md.
LEGACY_FILES = {
    REFS,
    "scripts/check_references.py",
    "scenarios/quickstart.toml",
    "scenarios/hot_stream_fountain.toml",
    "scenarios/tree_vs_pool_vs_mesh.toml",
}
LEGACY_DIRS = ("benches/regression-baseline/", "fuzz/regressions/")
CITATION = re.compile(r"docs/references\.md, \"?([A-Za-z0-9][A-Za-z0-9 '+-]*)")
DANGLING = re.compile(r"docs/references\.md,\s*$")
USED_ITEM = re.compile(r"^\s*- `([^`]+)`(?::(.*))?$")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_BYTES = 4 << 20


def tracked_files():
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        return sorted(p for p in out.decode().split("\0") if p)
    except (OSError, subprocess.CalledProcessError):
        found = []
        for d, dirs, names in os.walk(ROOT):
            dirs[:] = [x for x in dirs if x not in (".git", "target")]
            found += [os.path.relpath(os.path.join(d, n), ROOT) for n in names]
        return sorted(found)


def read_text(path):
    full = os.path.join(ROOT, path)
    if not os.path.isfile(full) or os.path.getsize(full) > MAX_BYTES:
        return None
    try:
        with open(full, encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError:
        return None


def check_entries(text, errors):
    """The headings of the references file, each with the files listed
    under it (for a "##" heading: under all its entries); checks each
    entry's shape and its Used in list."""
    headings = {}
    used = {}
    section = None
    entry = None  # (heading, line, has status, has used in)

    def close():
        if entry and not (entry[2] and entry[3]):
            errors.append(f"{REFS}:{entry[1]}: entry {entry[0]!r} needs a **Status** and a **Used in**")

    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^(#{2,3}) (.+?)\s*$", line)
        if m:
            name = m.group(2)
            if name in headings:
                errors.append(f"{REFS}:{n}: heading {name!r} also at line {headings[name]}")
            headings[name] = n
            used[name] = set()
            close()
            if m.group(1) == "###":
                entry = [name, n, False, False]
            else:
                entry, section = None, name
            continue
        if entry is None:
            continue
        entry[2] |= "**Status**" in line
        entry[3] |= "**Used in**" in line
        item = USED_ITEM.match(line)
        if not item:
            continue
        path = item.group(1)
        used[entry[0]].add(path)
        if section:
            used[section].add(path)
        body = read_text(path)
        if body is None:
            errors.append(f"{REFS}:{n}: {entry[0]!r} lists {path}, which is not a readable file")
            continue
        for symbol in re.findall(r"`([^`]+)`", item.group(2) or ""):
            missing = [w for w in WORD.findall(symbol) if len(w) >= 3 and w not in body]
            if missing:
                errors.append(f"{REFS}:{n}: {entry[0]!r} lists `{symbol}` in {path}, which has no {', '.join(missing)}")
    close()
    return headings, used


def main():
    errors = []
    refs = read_text(REFS)
    if refs is None:
        print(f"check_references: cannot read {REFS}", file=sys.stderr)
        return 1
    headings, used = check_entries(refs, errors)
    cited, citing = set(), set()
    for path in tracked_files():
        text = read_text(path)
        if text is None:
            continue
        legacy_ok = path in LEGACY_FILES or path.startswith(LEGACY_DIRS)
        for n, line in enumerate(text.splitlines(), 1):
            for m in CITATION.finditer(line):
                name = m.group(1).rstrip(" -'+")
                if name in headings:
                    cited.add(name)
                    citing.add(path)
                    if path != REFS and path not in used[name]:
                        errors.append(f"{path}:{n}: cites docs/references.md, {name!r}, whose Used in does not list {path}")
                else:
                    errors.append(f"{path}:{n}: cites docs/references.md, {name!r}: no such heading")
            if DANGLING.search(line):
                errors.append(f"{path}:{n}: a citation of docs/references.md with its heading on the next line (keep it on one line)")
            if "REFERENCE.md" in line and not legacy_ok:
                errors.append(f"{path}:{n}: cites REFERENCE.md, which is not in the repository: cite docs/references.md, <heading>")
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check_references: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_references: {len(headings)} headings, {len(cited)} of them cited from {len(citing)} files; every citation names a heading")
    return 0


if __name__ == "__main__":
    sys.exit(main())
