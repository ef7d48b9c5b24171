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

Usage (Debian's python3 and python3-distributed):
  embed_corpus.py --cli build/ggufembed --model model.gguf --corpus corpus.jsonl --out vectors/ \\
      [--scheduler tcp://host:8786] [--partitions 16] [--threads 1] [-- extra embed options]
Without --scheduler, a local cluster of --workers processes is started.
"""

import argparse
import json
import os
import subprocess
import sys
import threading

import dask.bag as db
from distributed import Client, LocalCluster, get_worker


class EmbedProcess:
    """One `ggufembed embed --input-format jsonl` kept alive for the whole worker process."""

    def __init__(self, command):
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        self.lock = threading.Lock()  # a worker may run several tasks on threads

    def embed(self, lines):
        """The output line of each non-blank input line, in order."""
        records = [line for line in lines if line.strip()]
        with self.lock:
            # Write on a thread while reading here: the pipes would fill up otherwise.
            def feed():
                for line in records:
                    self.proc.stdin.write(line.encode() + b"\n")
                self.proc.stdin.flush()

            writer = threading.Thread(target=feed)
            writer.start()
            out = [self.proc.stdout.readline().decode() for _ in records]
            writer.join()
        if any(not line.endswith("\n") for line in out):
            error = self.proc.stderr.read().decode().strip()
            raise RuntimeError(f"ggufembed stopped: {error or 'no output'}")
        return out


def partition_bounds(path, n):
    """Byte offsets cutting the file into up to n runs of whole lines of about equal size."""
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
    return bounds


def embed_partition(corpus, start, end, partition, command, out_dir):
    """Embeds the lines in bytes [start, end) of the corpus into OUT_DIR/part-NNNNN.jsonl."""
    with open(corpus, "rb") as f:
        f.seek(start)
        lines = f.read(end - start).decode("utf-8", errors="replace").splitlines()
    worker = get_worker()
    key = "ggufembed_process"
    process = getattr(worker, key, None)
    if process is None or process.proc.poll() is not None:
        process = EmbedProcess(command)
        setattr(worker, key, process)
    out = process.embed(lines)
    path = os.path.join(out_dir, f"part-{partition:05d}.jsonl")
    partial = f"{path}.{os.getpid()}.partial"
    with open(partial, "w", encoding="utf-8") as f:
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

    command = [os.path.abspath(args.cli), "embed", "-q", "-m", os.path.abspath(args.model),
               "--input-format", "jsonl", "--on-error", "record", "--threads",
               str(args.threads), *args.extra]
    os.makedirs(args.out, exist_ok=True)
    corpus, out_dir = os.path.abspath(args.corpus), os.path.abspath(args.out)
    bounds = partition_bounds(corpus, max(1, args.partitions))
    parts = [(k, bounds[k], bounds[k + 1]) for k in range(len(bounds) - 1)]

    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True)
        client = Client(cluster)
    with client:
        bag = db.from_sequence(parts, npartitions=len(parts))
        results = bag.map(lambda p: embed_partition(corpus, p[1], p[2], p[0], command,
                                                    out_dir)).compute()
    # A worker killed while writing leaves its aside file; the retried task wrote the real one.
    for name in os.listdir(out_dir):
        if name.endswith(".partial"):
            os.remove(os.path.join(out_dir, name))
    total = sum(count for _, count in results)
    print(json.dumps({"partitions": len(results), "records": total}))


if __name__ == "__main__":
    sys.exit(main())
