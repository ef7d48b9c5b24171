#!/usr/bin/env python3
"""Lists the longest source files and functions (C++ and JS) of the tree: the numbers the style
rules speak of (files up to ~600 lines, functions up to ~80 except tables).

Usage: scripts/code-sizes.py [--top N] [--max-file 600] [--max-function 80]
Functions are found by layout (clang-format's): a line at indentation 0 or 2 that opens a body
with `{` after a `)`, up to the `}` at the same indentation. Exits 1 when a limit is exceeded.
"""
import argparse
import re
import subprocess
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--top", type=int, default=8)
parser.add_argument("--max-file", type=int, default=600)
parser.add_argument("--max-function", type=int, default=80)
args = parser.parse_args()

files = subprocess.run(["git", "ls-files", "src", "include", "native", "wasm", "js/src", "tests",
                        "bench", "examples"], capture_output=True, text=True, check=True).stdout.split()
files = [f for f in files if re.search(r"\.(cc|h|mjs|js)$", f)]

file_sizes, functions = [], []
for path in files:
    lines = open(path, encoding="utf-8").read().split("\n")
    file_sizes.append((len(lines), path))
    i = 0
    while i < len(lines):
        m = re.match(r"^( {0,2})(\S.*)$", lines[i])
        if m and "(" in lines[i] and not re.match(r"(}|namespace|struct|class|enum|extern|union|#|//|/\*|\*|case|if|for|while|switch|return|export (const|default)|const \w+ = \[)", m.group(2)):
            indent = m.group(1)
            # the signature may span lines: find the line that ends with "{"
            j = i
            while j < len(lines) and j < i + 6 and not lines[j].rstrip().endswith("{") and not lines[j].rstrip().endswith(";"):
                j += 1
            if j < len(lines) and lines[j].rstrip().endswith("{") and ")" in " ".join(lines[i:j + 1]):
                k = j + 1
                while k < len(lines) and not re.match("^" + indent + r"}", lines[k]):
                    k += 1
                name = re.sub(r"\s+", " ", lines[i].strip())[:90]
                functions.append((k - i + 1, f"{path}:{i + 1}", name))
                i = k
        i += 1

file_sizes.sort(reverse=True)
functions.sort(reverse=True)
print(f"largest files (limit {args.max_file}):")
for n, path in file_sizes[:args.top]:
    print(f"  {n:5d}  {path}")
print(f"longest functions (limit {args.max_function}):")
for n, where, name in functions[:args.top]:
    print(f"  {n:5d}  {where}  {name}")
over = [f for f in file_sizes if f[0] > args.max_file] + [f for f in functions if f[0] > args.max_function]
sys.exit(1 if over else 0)
