#!/usr/bin/python3
"""Embeds a JSONL corpus with Dask distributed and ggufembed.

Each line of the corpus is a record {"id": ..., "text": ...} (optional "title", "prompt"). The
corpus is cut into partitions of whole lines (byte ranges of the file, which every worker reads:
a shared file system); every Dask worker process keeps one long-lived
`ggufembed embed --input-format jsonl` and pipes each partition it is given through it. The
vectors of partition k are written to OUT_DIR/part-0000k.jsonl, one {"id", "embedding", "tokens",
"truncated"} line per record in input order (or {"id", "error"} for a record that cannot be
embedded). A partition file appears whole or not at all (written aside, then renamed), so a task
that Dask retries after a worker died just writes it again: every record ends up exactly once.
The union of the parts is, line for line, what one `ggufembed embed --input-format jsonl
--on-error record` over the whole corpus writes: lines are cut at "\\n" only and passed on as
bytes, blank lines are the CLI's (spaces, tabs, "\\r"), and error messages name corpus lines.

Usage (Debian's python3 and python3-distributed):
  embed_corpus.py --cli build/ggufembed --model model.gguf --corpus corpus.jsonl --out vectors/ \\
      [--scheduler tcp://host:8786] [--partitions 16] [--threads 1] [-- extra embed options]
Without --scheduler, a local cluster of --workers processes is started. OUT_DIR must not hold the
parts of an earlier run.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import uuid

import dask.bag as db
from distributed import Client, LocalCluster, get_worker

BOM = b"\xef\xbb\xbf"
# The start of an error record's message, as the CLI writes it: `"error":{"code":"...","message":
# "line N: ...`. Inside a JSON string a quote is escaped, so the last match of a record that is an
# error is its own (an id, which comes first, may be an object holding the same members).
ERROR_LINE = re.compile(rb'"error":\{"code":"[a-z_]+","message":"line (\d+):')


def is_blank(line):
    """Whether the CLI skips `line` as a blank JSONL line (only spaces, tabs and "\\r")."""
    return not line.strip(b" \t\r")


class EmbedProcess:
    """One `ggufembed embed --input-format jsonl` kept alive for a worker process, for one command
    (a later job with another model or other options gets its own)."""

    def __init__(self, command):
        self.command = tuple(command)
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        self.lock = threading.Lock()  # a worker may run several tasks on threads
        # A blank first line: the CLI skips a byte-order mark only at the very start of its input,
        # which here would be whichever partition came first (the corpus's own is removed below).
        self.proc.stdin.write(b"\n")
        self.lines_sent = 1  # the CLI numbers every line it reads, from 1

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()

    def embed(self, records, corpus_lines):
        """The output line of each record (bytes, without "\\n"), in order; error messages name
        the record's corpus line (corpus_lines[i]) instead of the CLI's own count."""
        with self.lock:
            first = self.lines_sent + 1  # the CLI's number for records[0]
            self.lines_sent += len(records)

            # Write on a thread while reading here: the pipes would fill up otherwise.
            def feed():
                try:
                    for record in records:
                        self.proc.stdin.write(record + b"\n")
                    self.proc.stdin.flush()
                except OSError:
                    pass  # the process died: the reader sees its end

            writer = threading.Thread(target=feed)
            writer.start()
            out = []
            for _ in records:
                line = self.proc.stdout.readline()
                if not line.endswith(b"\n"):
                    break
                out.append(line)
            writer.join()
        if len(out) < len(records):
            self.proc.kill()
            error = self.proc.stderr.read().decode(errors="replace").strip()
            # A built-in class: this file's own would be another class in each task that Dask
            # unpickles, and a process kept from an earlier task raises the earlier one's.
            raise ChildProcessError(f"ggufembed stopped: {error or 'no output'}")

        def renumbered(line):
            if b'"error":{' not in line or "error" not in json.loads(line):
                return line
            *_, match = ERROR_LINE.finditer(line)
            n = int(match.group(1)) - first
            return line[:match.start(1)] + str(corpus_lines[n]).encode() + line[match.end(1):]

        return [renumbered(line) for line in out]


def partition_bounds(path, n):
    """Byte offsets cutting the file into up to n runs of whole lines of about equal size, and the
    1-based number of the first line of each run."""
    size = os.path.getsize(path)
    bounds = [0]
    with open(path, "rb") as f:
        for k in range(1, n):
            f.seek(max(bounds[-1], size * k // n))
            f.readline()  # to the start of the next line
            if f.tell() >= size:
                break
            if f.tell() > bounds[-1]:
                bounds.append(f.tell())
        bounds.append(size)
        first_lines, line = [], 1
        for start, end in zip(bounds, bounds[1:]):
            first_lines.append(line)
            f.seek(start)
            left = end - start
            while left > 0:
                chunk = f.read(min(left, 1 << 20))
                line += chunk.count(b"\n")
                left -= len(chunk)
    return bounds, first_lines


def embed_partition(corpus, start, end, first_line, partition, command, out_dir, run_id):
    """Embeds the lines in bytes [start, end) of the corpus into OUT_DIR/part-NNNNN.jsonl."""
    with open(corpus, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    if start == 0 and data.startswith(BOM):
        data = data[len(BOM):]  # as the CLI skips it at the start of its input
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()  # the empty piece after the last "\n"
    records, corpus_lines = [], []
    for i, line in enumerate(lines):
        if not is_blank(line):
            records.append(line)
            corpus_lines.append(first_line + i)

    worker = get_worker()
    key = "ggufembed_process"
    for attempt in (1, 2, 3):
        process = getattr(worker, key, None)
        if process is None or not process.alive() or process.command != tuple(command):
            if process is not None:
                process.close()  # another job's: its model and buffers go
            process = EmbedProcess(command)
            setattr(worker, key, process)
        try:
            out = process.embed(records, corpus_lines)
            break
        except ChildProcessError:
            # Killed (by the OOM killer, say): more tries with a new process, then the task
            # fails with the CLI's message.
            if attempt == 3:
                raise
    path = os.path.join(out_dir, f"part-{partition:05d}.jsonl")
    partial = f"{path}.{run_id}.{os.getpid()}.partial"
    with open(partial, "wb") as f:
        f.writelines(out)
    os.replace(partial, path)
    return path, len(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli", required=True, help="the ggufembed binary")
    parser.add_argument("--model", required=True, help="the GGUF model")
    parser.add_argument("--corpus", required=True, help="the JSONL corpus")
    parser.add_argument("--out", required=True, help="directory for the partition files")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler")
    parser.add_argument("--workers", type=int, default=2, help="local cluster size (default 2)")
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1,
                        help="ggufembed threads per worker process (default 1)")
    parser.add_argument("extra", nargs="*", help="more `ggufembed embed` options, after --")
    args = parser.parse_args()
    if args.partitions < 1:
        parser.error(f"--partitions {args.partitions} is not a positive number")

    command = [os.path.abspath(args.cli), "embed", "-q", "-m", os.path.abspath(args.model),
               "--input-format", "jsonl", "--on-error", "record", "--threads",
               str(args.threads), *args.extra]
    os.makedirs(args.out, exist_ok=True)
    corpus, out_dir = os.path.abspath(args.corpus), os.path.abspath(args.out)
    # Parts of an earlier run (another corpus, another partition count) would mix with these.
    earlier = sorted(n for n in os.listdir(out_dir) if n.startswith("part-"))
    if earlier:
        parser.error(f"{out_dir} holds {len(earlier)} part files of an earlier run "
                     f"({earlier[0]} ...): remove them or choose another directory")
    bounds, first_lines = partition_bounds(corpus, args.partitions)
    parts = [(k, bounds[k], bounds[k + 1], first_lines[k]) for k in range(len(bounds) - 1)]
    run_id = uuid.uuid4().hex

    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True)
        client = Client(cluster)
    with client:
        bag = db.from_sequence(parts, npartitions=len(parts))
        results = bag.map(lambda p: embed_partition(corpus, p[1], p[2], p[3], p[0], command,
                                                    out_dir, run_id)).compute()
    # A worker killed while writing leaves its aside file; the retried task wrote the real one.
    for name in os.listdir(out_dir):
        if f".{run_id}." in name and name.endswith(".partial"):
            os.remove(os.path.join(out_dir, name))
    total = sum(count for _, count in results)
    print(json.dumps({"partitions": len(results), "records": total}))


if __name__ == "__main__":
    sys.exit(main())
