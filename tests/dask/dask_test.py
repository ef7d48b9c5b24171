#!/usr/bin/python3
"""The Dask example, really run: a local scheduler and two worker processes embed a JSONL corpus
with examples/dask/embed_corpus.py; every id must come back exactly once with the vector the
single-process CLI gives — also when one worker is killed in the middle of the run.

Usage: dask_test.py GGUFEMBED_CLI MODEL.gguf   (Debian's python3 with python3-distributed)
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "examples", "dask", "embed_corpus.py")


def corpus(n):
    records = []
    for i in range(n):
        words = 5 + (i * 37) % 90
        text = " ".join(f"w{(i * 7 + w * 3) % 50}" for w in range(words))
        records.append({"id": f"doc-{i}" if i % 2 else i, "text": text})
    records[17]["text"] = "\U0001F600 emoji, ünïcödé"  # a non-ASCII record
    return records


def read_parts(out_dir):
    got = {}
    for name in sorted(os.listdir(out_dir)):
        assert name.startswith("part-") and name.endswith(".jsonl"), name  # no partial files
        with open(os.path.join(out_dir, name), encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                key = json.dumps(record["id"])
                assert key not in got, f"id {key} twice"
                got[key] = record
    return got


class Cluster:
    """A scheduler and two single-threaded worker processes without nannies (a killed worker
    stays dead, as when its machine goes away)."""

    def __init__(self, tmp):
        self.file = os.path.join(tmp, "scheduler.json")
        env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False")
        common = dict(cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.scheduler = subprocess.Popen(
            ["/usr/bin/dask-scheduler", "--host", "127.0.0.1", "--port", "0",
             "--dashboard-address", ":0", "--scheduler-file", self.file], **common)
        deadline = time.time() + 60
        while not os.path.exists(self.file):
            assert time.time() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        time.sleep(0.3)  # the file is written before the scheduler listens
        with open(self.file, encoding="utf-8") as f:
            self.address = json.load(f)["address"]
        self.workers = [
            subprocess.Popen(["/usr/bin/dask-worker", "--scheduler-file", self.file,
                              "--nworkers", "1", "--nthreads", "1", "--no-nanny",
                              "--no-dashboard", "--host", "127.0.0.1"], **common)
            for _ in range(2)
        ]

    def close(self):
        for p in [*self.workers, self.scheduler]:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in [*self.workers, self.scheduler]:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def run_example(cli, model, corpus_path, out_dir, address, partitions):
    return subprocess.Popen(
        ["/usr/bin/python3", SCRIPT, "--cli", cli, "--model", model, "--corpus", corpus_path,
         "--out", out_dir, "--scheduler", address, "--partitions", str(partitions)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main():
    cli, model = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="ggufembed-dask-")
    cluster = None
    try:
        records = corpus(400)
        corpus_path = os.path.join(tmp, "corpus.jsonl")
        with open(corpus_path, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        # What one process gives, text by text.
        single = subprocess.run([cli, "embed", "-q", "-m", model, "--input-format", "jsonl",
                                 "--threads", "1", "--pack-tokens", "0", "-i", corpus_path],
                                capture_output=True, text=True, check=True).stdout.splitlines()
        want = {json.dumps(json.loads(line)["id"]): json.loads(line) for line in single}
        assert len(want) == len(records)

        cluster = Cluster(tmp)
        for case in ("healthy", "a worker killed mid-run"):
            out_dir = os.path.join(tmp, case.replace(" ", "-"))
            partitions = 40
            run = run_example(cli, model, corpus_path, out_dir, cluster.address, partitions)
            if case != "healthy":
                # Kill one worker once the run is under way but far from done.
                deadline = time.time() + 120
                while not os.path.isdir(out_dir) or len(os.listdir(out_dir)) < 2:
                    assert time.time() < deadline and run.poll() is None, "no progress"
                    time.sleep(0.005)
                done_at_kill = len([n for n in os.listdir(out_dir) if n.endswith(".jsonl")])
                cluster.workers[0].kill()
                assert done_at_kill < partitions, "the run ended before the kill"
            stdout, stderr = run.communicate(timeout=300)
            assert run.returncode == 0, f"{case}: exit {run.returncode}\n{stderr}"
            summary = json.loads(stdout.strip().splitlines()[-1])
            assert summary == {"partitions": partitions, "records": len(records)}, summary
            got = read_parts(out_dir)
            assert set(got) == set(want), f"{case}: ids differ"
            for key, record in want.items():
                assert got[key] == record, f"{case}: record {key} differs"
            print(f"ok - {case}: {len(got)} records in {partitions} partitions, each once")
    finally:
        if cluster:
            cluster.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
