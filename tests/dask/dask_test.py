#!/usr/bin/python3
"""The Dask example, really run: a local scheduler and two worker processes embed a JSONL corpus
with examples/dask/embed_corpus.py; every id must come back exactly once with the vector the
single-process CLI gives — also when one worker is killed in the middle of the run, or the
ggufembed process inside one. Then a corpus of the lines a Python reader gets wrong (a byte-order
mark, U+2028 and "\r" inside records, invalid UTF-8, blank-looking lines, malformed records): the
parts, in order, must be byte for byte the single CLI run's; a second job with other options on
the same workers must get its own vectors; an output directory holding parts is refused.

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


def run_example(cli, model, corpus_path, out_dir, address, partitions, extra=()):
    return subprocess.Popen(
        ["/usr/bin/python3", SCRIPT, "--cli", cli, "--model", model, "--corpus", corpus_path,
         "--out", out_dir, "--scheduler", address, "--partitions", str(partitions), "--",
         *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# Lines that Python's str.splitlines, str.strip or a UTF-8 decode with replacement would cut,
# drop or change, between ordinary records; every one is a line of its own for the CLI.
QUIRKS = b"".join([
    b"\xef\xbb\xbf\n",                                    # a byte-order mark alone on line 1
    b'{"id":"crlf","text":"a CRLF line"}\r\n',
    b'{"id":"u2028","text":"split \xe2\x80\xa8 here? \xe2\x80\xa9 \xc2\x85 no"}\n',
    b'{"id":"cr",\r"text":"a \\r as JSON whitespace"}\n',
    b'{"id":"bad-utf8","text":"caf\xe9"}\n',               # an error record, not U+FFFD
    b"\xc2\xa0\xe3\x80\x80\n",                            # NBSP, U+3000: not blank for the CLI
    b" \t\r\n",                                           # blank
    b'{"id":"ctrl","text":"x\x0by"}\n',                   # a raw control character: an error
    b'{"id":{"error":{"code":"x","message":"line 1: an id that looks like an error"}},'
    b'"text":"ok"}\n',
    b"not json at all\n",
    b'{"id":"last","text":"no newline at the end"}',
])


def single_run(cli, model, corpus_path, extra=()):
    return subprocess.run([cli, "embed", "-q", "-m", model, "--input-format", "jsonl",
                           "--on-error", "record", "-i", corpus_path, *extra],
                          capture_output=True, check=True).stdout


def joined_parts(out_dir):
    names = sorted(os.listdir(out_dir))
    assert all(n.startswith("part-") and n.endswith(".jsonl") for n in names), names
    data = b""
    for name in names:
        with open(os.path.join(out_dir, name), "rb") as f:
            data += f.read()
    return data


def kill_a_cli(cluster):
    """Kills the ggufembed process of a live worker (its child: CTest runs other tests beside
    this one, whose ggufembed processes must not be hit); whether there was one."""
    for worker in cluster.workers:
        if worker.poll() is not None:
            continue
        # Its children, from /proc (procps's pgrep is not promised on a fresh machine).
        pids = []
        for task in os.listdir(f"/proc/{worker.pid}/task"):
            with open(f"/proc/{worker.pid}/task/{task}/children", encoding="utf-8") as f:
                pids += [int(p) for p in f.read().split()]
        def is_cli(pid):
            try:
                return os.path.basename(os.readlink(f"/proc/{pid}/exe")) == "ggufembed"
            except OSError:  # it ended meanwhile
                return False

        pids = [p for p in pids if is_cli(p)]
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            return True
    return False


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
        for case in ("healthy", "a worker killed mid-run", "a worker's ggufembed killed mid-run"):
            out_dir = os.path.join(tmp, case.replace(" ", "-"))
            partitions = 40
            run = run_example(cli, model, corpus_path, out_dir, cluster.address, partitions)
            if case != "healthy":
                # Kill one worker (or the ggufembed process it keeps, as the OOM killer would)
                # once the run is under way but far from done.
                deadline = time.time() + 120
                while not os.path.isdir(out_dir) or len(os.listdir(out_dir)) < 2:
                    assert time.time() < deadline and run.poll() is None, "no progress"
                    time.sleep(0.005)
                done_at_kill = len([n for n in os.listdir(out_dir) if n.endswith(".jsonl")])
                if case == "a worker killed mid-run":
                    cluster.workers[0].kill()
                else:
                    assert kill_a_cli(cluster), "no ggufembed process to kill"
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

        # The quirks between ordinary records, cut into partitions at many places; the first
        # worker's ggufembed has run the jobs above (its line count is no corpus line number).
        quirks_path = os.path.join(tmp, "quirks.jsonl")
        with open(quirks_path, "wb") as f:
            f.write(QUIRKS[:QUIRKS.index(b"\n") + 1])
            for i in range(30):
                f.write(json.dumps({"id": i, "text": f"record {i} " * (1 + i % 5)}).encode() + b"\n")
            f.write(QUIRKS[QUIRKS.index(b"\n") + 1:])
        want_bytes = single_run(cli, model, quirks_path)
        assert want_bytes.count(b"\n") == 30 + 9, want_bytes.count(b"\n")
        for partitions in (1, 7):
            out_dir = os.path.join(tmp, f"quirks-{partitions}")
            run = run_example(cli, model, quirks_path, out_dir, cluster.address, partitions)
            stdout, stderr = run.communicate(timeout=300)
            assert run.returncode == 0, f"quirks: exit {run.returncode}\n{stderr}"
            got_bytes = joined_parts(out_dir)
            assert got_bytes == want_bytes, f"quirks, {partitions} partitions: the parts differ"
            print(f"ok - the quirks corpus in {partitions} partitions: the single run's bytes")
        # Another job on the same workers with other options: its own ggufembed, its own vectors.
        out_dir = os.path.join(tmp, "dim-64")
        run = run_example(cli, model, quirks_path, out_dir, cluster.address, 4, ["--dim", "64"])
        stdout, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, f"--dim 64: exit {run.returncode}\n{stderr}"
        assert joined_parts(out_dir) == single_run(cli, model, quirks_path, ["--dim", "64"])
        print("ok - a second job with --dim 64 on the same workers gets 64-value vectors")
        # Parts of an earlier run in the output directory would mix with the new ones.
        run = run_example(cli, model, quirks_path, out_dir, cluster.address, 2)
        stdout, stderr = run.communicate(timeout=300)
        assert run.returncode == 2, f"a used output directory: exit {run.returncode}"
        assert f"{out_dir} holds 4 part files of an earlier run (part-00000.jsonl ...)" in stderr, stderr
        print("ok - an output directory holding parts is refused")
    finally:
        if cluster:
            cluster.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
