// Data safety of the corpus job (issue 12): a run killed with SIGKILL at any moment leaves a
// prefix of the complete run's output (complete records in order, then at most the beginning of
// one more, which a reader drops: a JSONL line without its "\n", a binary row short of its
// bytes); with f32/npy, every row the ids file names is complete in the binary file, which holds
// at most one row more. `--on-error record` writes every record exactly once, in input order,
// with its id, whatever is wrong with it — malformed JSON, missing or mistyped members, invalid
// UTF-8, too many tokens, a line over --max-line-bytes — and blank lines are not records.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { runCli, synthTinyModels } from "./gguf_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-safety-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const { "gemma-embedding": tiny } = synthTinyModels(dir);
const DIM = 128;

// A few thousand records of 3 to ~40 words, ids 0, 1, 2, ...
const N = 3000;
const input = join(dir, "corpus.jsonl");
writeFileSync(input, Array.from({ length: N }, (_, i) => {
  const words = 3 + (i * 13) % 38;
  const text = Array.from({ length: words }, (_, w) => `w${(i * 7 + w * 3) % 50}`).join(" ");
  return JSON.stringify({ id: i, text });
}).join("\n") + "\n");

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const size = (file) => { try { return statSync(file).size; } catch { return 0; } };

// Runs `embed` on the corpus and kills it with SIGKILL once `file` holds `bytes` bytes or after
// `ms` milliseconds, whichever comes first; resolves when it has exited.
async function runKilled(args, { file, bytes = Infinity, ms = Infinity }) {
  const child = spawn(process.env.GGUFEMBED_CLI, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const exited = new Promise((ok) => child.on("exit", (code, signal) => ok({ code, signal })));
  const start = Date.now();
  let done = false;
  exited.then(() => { done = true; });
  while (!done && size(file) < bytes && Date.now() - start < ms) await sleep(1);
  if (!done) child.kill("SIGKILL");
  const status = await exited;
  return { ...status, stderr };
}

const base = ["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-i", input, "--threads", "2"];
const KILLS = [{ ms: 150 }, { ms: 400 }, { ms: 800 }, { ms: 1500 }, { bytes: 1 }, { bytes: 4097 },
               { bytes: 100_000 }, { bytes: 1_000_000 }, { bytes: 3_333_333 }];

// The complete runs, whose outputs every killed run must be a prefix of.
const fullJsonl = join(dir, "full.jsonl");
assert.equal(runCli([...base, "-o", fullJsonl]).status, 0);
const reference = readFileSync(fullJsonl);
const fullF32 = join(dir, "full.f32"), fullIds = join(dir, "full.ids");
assert.equal(runCli([...base, "-f", "f32", "-o", fullF32, "--ids", fullIds]).status, 0);
const referenceF32 = readFileSync(fullF32), referenceIds = readFileSync(fullIds);
assert.equal(referenceF32.length, N * DIM * 4);

// What a reader keeps of a JSONL output: its complete lines (the unterminated tail is dropped).
function completeLines(bytes) {
  const text = bytes.toString("utf8");
  const end = text.lastIndexOf("\n") + 1;
  return { lines: text.slice(0, end).split("\n").slice(0, -1), tail: bytes.length - Buffer.byteLength(text.slice(0, end)) };
}

function assertPrefix(got, full, what) {
  assert.ok(got.length <= full.length, `${what}: ${got.length} bytes, more than the full run's`);
  assert.ok(got.equals(full.subarray(0, got.length)), `${what} is not a prefix of the full run's`);
}

function assertIdsInOrder(lines, what) {
  lines.forEach((line, i) => assert.equal(JSON.parse(line).id, i, `${what}: line ${i + 1}`));
}

test("jsonl: a run killed at any point leaves complete records in order, then at most one partial line", async () => {
  let tails = 0, counts = [];
  for (const kill of KILLS) {
    const out = join(dir, "killed.jsonl");
    rmSync(out, { force: true });
    const status = await runKilled([...base, "-o", out], { file: out, ...kill });
    const got = readFileSync(out);
    assertPrefix(got, reference, `killed at ${JSON.stringify(kill)}`);
    const { lines, tail } = completeLines(got);
    assertIdsInOrder(lines, `killed at ${JSON.stringify(kill)}`);
    for (const line of lines) assert.equal(JSON.parse(line).embedding.length, DIM);
    if (tail) tails++;
    counts.push(status.signal === "SIGKILL" ? lines.length : `done ${lines.length}`);
  }
  console.log(`records before each kill: ${counts.join(", ")}; partial last lines: ${tails}`);
  // Most kills land mid-run: the test would prove nothing if the job always finished first.
  assert.ok(counts.filter((c) => typeof c === "number" && c < N).length >= 5, counts.join(", "));
});

test("jsonl to stdout through a pipe: killed, the reader still sees whole records in order", async () => {
  for (const bytes of [50_000, 1_500_000]) {
    const child = spawn(process.env.GGUFEMBED_CLI, base, { stdio: ["ignore", "pipe", "ignore"] });
    const chunks = [];
    let n = 0;
    child.stdout.on("data", (d) => {
      chunks.push(d);
      n += d.length;
      if (n >= bytes) child.kill("SIGKILL");
    });
    await new Promise((ok) => child.on("close", ok));
    const got = Buffer.concat(chunks);
    assertPrefix(got, reference, `stdout killed after ${bytes} bytes`);
    assertIdsInOrder(completeLines(got).lines, `stdout killed after ${bytes} bytes`);
  }
});

for (const format of ["f32", "npy"]) {
  test(`${format} + --ids: killed at any point, every row the ids file names is complete`, async () => {
    const header = format === "npy" ? 128 : 0;
    const counts = [];
    for (const kill of KILLS) {
      const out = join(dir, `killed.${format}`), ids = join(dir, `killed.ids`);
      rmSync(out, { force: true });
      rmSync(ids, { force: true });
      const status = await runKilled([...base, "-f", format, "-o", out, "--ids", ids],
                                     { file: out, ...kill, bytes: kill.bytes && Math.ceil(kill.bytes / 3) });
      const bin = readFileSync(out), idsBytes = size(ids) ? readFileSync(ids) : Buffer.alloc(0);
      assertPrefix(idsBytes, referenceIds, `ids killed at ${JSON.stringify(kill)}`);
      assertPrefix(bin.subarray(header), referenceF32, `${format} killed at ${JSON.stringify(kill)}`);
      const { lines } = completeLines(idsBytes);
      assertIdsInOrder(lines, `ids killed at ${JSON.stringify(kill)}`);
      lines.forEach((line, i) => assert.equal(JSON.parse(line).row, i));
      // The row goes out before its ids line: the binary file holds the named rows, and at most
      // one more (whole or not).
      const rowBytes = DIM * 4, fullRows = Math.floor((bin.length - header) / rowBytes);
      assert.ok(fullRows >= lines.length && fullRows <= lines.length + 1,
                `${fullRows} rows for ${lines.length} ids lines`);
      if (format === "npy" && bin.length >= header) {
        // The header's row count trails the ids file by at most one row; NumPy reads that many.
        const shape = /'shape': \((\d+), (\d+)\)/.exec(bin.subarray(0, header).toString("latin1"));
        const rows = Number(shape[1]);
        assert.ok(rows <= lines.length && rows >= lines.length - 1, `header ${rows}, ids ${lines.length}`);
        if (rows > 0) assert.equal(Number(shape[2]), DIM);
      }
      counts.push(status.signal === "SIGKILL" ? lines.length : `done ${lines.length}`);
    }
    console.log(`${format}: rows named before each kill: ${counts.join(", ")}`);
    assert.ok(counts.filter((c) => typeof c === "number" && c < N).length >= 5, counts.join(", "));
  });
}

// Good and bad records mixed; `expect` is null for a good one, else the error code.
function mixedCorpus(maxLine) {
  const good = (i) => ({ line: JSON.stringify({ id: `doc-${i}`, text: `good record ${i} with words` }),
                         id: `doc-${i}`, expect: null });
  const kinds = [
    () => ({ line: '{"id": "m1", "text": "unterminated', id: "m1", expect: "invalid_argument" }),
    () => ({ line: '{"id": "m2" "text": "no colon"}', id: "m2", expect: "invalid_argument" }),
    () => ({ line: "not json at all", id: null, expect: "invalid_argument" }),
    () => ({ line: '["an", "array"]', id: null, expect: "invalid_argument" }),
    () => ({ line: '{"id": "nt"}', id: "nt", expect: "invalid_argument" }),
    () => ({ line: '{"id": "t5", "text": 5}', id: "t5", expect: "invalid_argument" }),
    () => ({ line: '{"id": "tn", "text": null}', id: "tn", expect: "invalid_argument" }),
    () => ({ line: '{"id": "pr", "text": "x", "prompt": 3}', id: "pr", expect: "invalid_argument" }),
    () => ({ line: '{"id": "pn", "text": "x", "prompt": "no-such-prompt"}', id: "pn", expect: "invalid_argument" }),
    () => ({ line: '{"id": "u8", "text": "bad \xff\xfe bytes"}', id: "u8", expect: "invalid_argument", latin1: true }),
    () => ({ line: '{"id": "sur", "text": "lone \\ud800 surrogate"}', id: "sur", expect: "invalid_argument" }),
    () => ({ line: JSON.stringify({ id: "long", text: "w ".repeat(2100) }), id: "long", expect: "input_too_long" }),
    () => ({ line: JSON.stringify({ id: "huge", text: "y".repeat(maxLine + 10) }), id: "huge", expect: "input_too_long" }),
    () => ({ line: JSON.stringify({ text: "no id at all" }), id: null, expect: null }),
    () => ({ line: JSON.stringify({ id: "doc-1", text: "a duplicate id is a record like any other" }), id: "doc-1", expect: null }),
    () => ({ line: JSON.stringify({ id: { nested: [1, 2] }, text: "an object id" }), id: { nested: [1, 2] }, expect: null }),
    () => ({ line: JSON.stringify({ id: 12345678901234, text: "" }), id: 12345678901234, expect: null }),
  ];
  const records = [], lines = [];
  for (let i = 0; i < 400; i++) {
    const r = i % 3 === 2 ? kinds[(i / 3 | 0) % kinds.length]() : good(i);
    records.push(r);
    lines.push(r.latin1 ? Buffer.from(r.line, "latin1") : Buffer.from(r.line));
    if (i % 50 === 7) lines.push(Buffer.from(""), Buffer.from("   \t"));  // blank: not records
  }
  return { records, bytes: Buffer.concat(lines.flatMap((l) => [l, Buffer.from("\n")])) };
}

function assertEveryRecordOnce(records, got, what) {
  assert.equal(got.length, records.length, `${what}: ${got.length} results for ${records.length} records`);
  records.forEach((r, i) => {
    assert.deepEqual(got[i].id, r.id, `${what}: result ${i}`);
    if (r.expect === null) {
      assert.equal(got[i].error, undefined, `${what}: result ${i}: ${JSON.stringify(got[i].error)}`);
    } else {
      assert.equal(got[i].error?.code, r.expect, `${what}: result ${i} (${r.line.slice(0, 60)})`);
      assert.match(got[i].error.message, /^line \d+: /);
    }
  });
}

test("--on-error record: a mix of good and bad records, each once, in order, with its id", () => {
  const maxLine = 4096;
  const { records, bytes } = mixedCorpus(maxLine);
  const file = join(dir, "mixed.jsonl");
  writeFileSync(file, bytes);
  const lineNumbers = [];
  bytes.toString("latin1").split("\n").forEach((l, i) => { if (l.trim()) lineNumbers.push(i + 1); });
  for (const extra of [["--threads", "1", "--pack-tokens", "0"], ["--threads", "2", "--pack-tokens", "64"]]) {
    const args = ["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-i", file,
                  "--on-error", "record", "--max-line-bytes", String(maxLine), ...extra];
    const r = runCli(args);
    assert.equal(r.status, 0, r.stderr);
    const got = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assertEveryRecordOnce(records, got, extra.join(" "));
    got.forEach((g, i) => {
      if (g.error) assert.ok(g.error.message.startsWith(`line ${lineNumbers[i]}: `), g.error.message);
    });
    const huge = got[records.findIndex((x) => x.id === "huge")];
    assert.match(huge.error.message, /the line is \d+ bytes long, more than the limit of 4096 bytes/);

    // The same through f32 + --ids: the ids file lists every record, rows numbered in order.
    const out = join(dir, "mixed.f32"), ids = join(dir, "mixed.ids");
    const b = runCli([...args, "-f", "f32", "-o", out, "--ids", ids]);
    assert.equal(b.status, 0, b.stderr);
    const idLines = readFileSync(ids, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assertEveryRecordOnce(records, idLines, `${extra.join(" ")} f32`);
    let row = 0;
    for (const l of idLines) if (!l.error) assert.equal(l.row, row++);
    assert.equal(statSync(out).size, row * DIM * 4);
  }
});

test("the default line limit: a 9 MiB record is an error in its place, never read whole", () => {
  const file = join(dir, "huge-line.jsonl");
  const huge = '{"id": "huge", "text": "' + "z".repeat(9 << 20) + '"}';
  writeFileSync(file, ['{"id": 1, "text": "before"}', huge, '{"id": 2, "text": "after"}', ""].join("\n"));
  const r = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-i", file, "--on-error", "record"]);
  assert.equal(r.status, 0, r.stderr);
  const got = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(got.map((g) => g.id), [1, "huge", 2]);
  assert.equal(got[1].error.code, "input_too_long");
  assert.equal(got[1].error.message, `line 2: the line is ${huge.length} bytes long, more than the limit of ` +
    "8388608 bytes (8 MiB); it was not read (--max-line-bytes)");
  // --on-error fail stops there, after the record before it.
  const f = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-i", file]);
  assert.equal(f.status, 1);
  assert.equal(f.stdout.trim().split("\n").length, 1);
  assert.match(f.stderr, /line 2 \(id "huge"\): the line is \d+ bytes long, more than the limit of 8388608 bytes/);
  // Text input too: one text per line.
  const t = runCli(["embed", "-q", "-m", tiny, "-f", "jsonl", "--max-line-bytes", "10", "--on-error", "record"],
                   { input: "short\n" + "a much longer line\n" + "ok\n" });
  assert.equal(t.status, 0, t.stderr);
  const tl = t.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(tl.map((x) => x.index), [0, 1, 2]);
  assert.equal(tl[1].error.code, "input_too_long");
});

// The CLI's standard output for `input` sent through a pipe in pieces of 7,000 characters, each its
// own read, so that a long line arrives over many; the run must succeed.
async function runInPieces(args, input) {
  const child = spawn(process.env.GGUFEMBED_CLI, args, { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  const closed = new Promise((ok) => child.on("close", ok));
  for (let i = 0; i < input.length; i += 7000) {
    child.stdin.write(input.slice(i, i + 7000));
    await sleep(1);
  }
  child.stdin.end();
  assert.equal(await closed, 0);
  return out;
}

test("the line limit at its edges: exactly the limit, one more, CRLF, the last line without \\n", async () => {
  // Text input, one text per line; with --max-line-bytes 10 a line of 10 bytes is read, 11 is not.
  const lines = ["a".repeat(10), "b".repeat(11), "c".repeat(10) + "\r", "d".repeat(11) + "\r",
                 "e".repeat(100000), "", "f".repeat(5)];
  const input = lines.join("\n");  // the last line has no "\n"
  const args = ["embed", "-q", "-m", tiny, "-f", "jsonl", "--max-line-bytes", "10", "--on-error", "record"];
  const expectOverlong = [false, true, false, true, true, false, false];
  const check = (stdout, what) => {
    const got = stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(got.map((g) => g.index), [0, 1, 2, 3, 4, 5, 6], what);
    got.forEach((g, i) => assert.equal(g.error?.message?.includes("more than the limit of 10 bytes") ?? false,
                                       expectOverlong[i], `${what}: line ${i + 1}`));
    assert.match(got[1].error.message, /^line 2: the line is 11 bytes long/);
    assert.match(got[3].error.message, /^line 4: the line is 11 bytes long/);  // the "\r" not counted
    assert.match(got[4].error.message, /^line 5: the line is 100000 bytes long/);
  };
  check(runCli(args, { input }).stdout, "from a file-like pipe");
  check(await runInPieces(args, input), "in pieces");
});

test("JSONL: a blank line over the limit is still not a record; one with text after its blanks is", async () => {
  // Spaces and a CRLF end, tabs, and tabs at the end of the input without a "\n": passed over
  // like short blank lines (the limit once made them records: errors, and with --on-error fail
  // the end of the run). 150,000 spaces then "x" is a line over the limit.
  const input = '{"id": "a", "text": "x"}\n' + " ".repeat(200000) + "\r\n" + '{"id": "b", "text": "y"}\n' +
    " ".repeat(150000) + "x\n" + '{"id": "c", "text": "z"}\n' + "\t".repeat(70000);
  const args = ["embed", "-q", "-m", tiny, "--input-format", "jsonl", "--max-line-bytes", "1000"];
  const check = (stdout, what) => {
    const got = stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(got.map((g) => g.id), ["a", "b", null, "c"], what);
    assert.match(got[2].error.message, /^line 4: the line is 150001 bytes long, more than the limit of 1000/, what);
  };
  check(runCli([...args, "--on-error", "record"], { input }).stdout, "at once");
  check(await runInPieces([...args, "--on-error", "record"], input), "in pieces");
  // Without the line of text, --on-error fail embeds all three records.
  const blanksOnly = input.replace(" ".repeat(150000) + "x\n", "");
  const f = runCli(args, { input: blanksOnly });
  assert.equal(f.status, 0, f.stderr);
  assert.deepEqual(f.stdout.trim().split("\n").map((l) => JSON.parse(l).id), ["a", "b", "c"]);
});

test("an overlong line whose \\r arrives in a read of its own: the \\r is not counted", async () => {
  const args = ["embed", "-q", "-m", tiny, "-f", "jsonl", "--max-line-bytes", "20", "--on-error", "record"];
  const child = spawn(process.env.GGUFEMBED_CLI, args, { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  const closed = new Promise((ok) => child.on("close", ok));
  for (const piece of ["a".repeat(30), "\r", "\nshort\n"]) {
    child.stdin.write(piece);
    await sleep(150);  // each piece its own read
  }
  child.stdin.end();
  assert.equal(await closed, 0);
  const [first, second] = out.trim().split("\n").map((l) => JSON.parse(l));
  assert.match(first.error.message, /^line 1: the line is 30 bytes long, more than the limit of 20 bytes/);
  assert.equal(second.index, 1);
  assert.equal(second.embedding.length, DIM);
});

test("an output that is the model, the input or the other output is refused before anything is written", () => {
  const bytes = readFileSync(tiny);
  const model = join(dir, "victim.gguf");
  writeFileSync(model, bytes);
  const corpus = join(dir, "small.jsonl");
  const records = '{"id":1,"text":"a"}\n{"id":2,"text":"b"}\n';
  writeFileSync(corpus, records);
  const refused = (args, message, options) => {
    const r = runCli(["embed", "-q", ...args], options);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, `ggufembed embed: ${message}\n`);
  };
  // The memory-mapped model truncated under the run: SIGBUS, and the model file emptied.
  refused(["-m", model, "-o", model, "hello"], `-o ${model} is the model file`);
  refused(["-m", model, "-f", "f32", "-o", join(dir, "x.f32"), "--ids", model, "hello"],
          `--ids ${model} is the model file`);
  assert.deepEqual(readFileSync(model), bytes);
  // The input emptied before it was read: an empty corpus, exit 0.
  refused(["-m", tiny, "--input-format", "jsonl", "-i", corpus, "-o", corpus], `-o ${corpus} is the input file`);
  refused(["-m", tiny, "--input-format", "jsonl", "-o", corpus], `-o ${corpus} is the input file`,
          { input: undefined, stdio: [openSync(corpus, "r"), "pipe", "pipe"] });
  refused(["-m", tiny, "--input-format", "jsonl", "-i", corpus, "-f", "f32", "-o", join(dir, "y.f32"),
           "--ids", corpus], `--ids ${corpus} is the input file`);
  assert.equal(readFileSync(corpus, "utf8"), records);
  // Two write positions in one file: ids lines written over the rows, exit 0. Also when the file
  // does not exist yet, and through another spelling of its path.
  const both = join(dir, "both.npy");
  rmSync(both, { force: true });
  refused(["-m", tiny, "--input-format", "jsonl", "-i", corpus, "-f", "npy", "-o", both, "--ids",
           join(dir, ".", "both.npy")], `-o ${both} and --ids ${join(dir, ".", "both.npy")} are the same file`);
  assert.equal(size(both), 0);
  // The standard output, when the shell sent it to a file: the input's, the ids file's.
  const stdoutTo = (file, flags) => ({ stdio: [openSync(corpus, "r"), openSync(file, flags), "pipe"] });
  const refusedTo = (args, file, flags, message) => {
    const r = spawnSync(process.env.GGUFEMBED_CLI, ["embed", "-q", ...args], { encoding: "utf8", ...stdoutTo(file, flags) });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, `ggufembed embed: ${message}\n`);
  };
  refusedTo(["-m", tiny, "--input-format", "jsonl", "-f", "jsonl"], corpus, "a",
            "the standard output is the input file");  // it embedded its own output, growing
  assert.equal(readFileSync(corpus, "utf8"), records);
  const ids = join(dir, "ids.jsonl");
  refusedTo(["-m", tiny, "--input-format", "jsonl", "-f", "f32", "--ids", ids], ids, "w",
            `the standard output and --ids ${ids} are the same file`);
  refusedTo(["-m", tiny, "--input-format", "jsonl", "-f", "f32", "--ids", "/dev/stdout"], ids, "w",
            "the standard output and --ids /dev/stdout are the same file");
  // Through a symlink to a file not there yet.
  const target = join(dir, "target.f32"), link = join(dir, "link.f32");
  rmSync(target, { force: true });
  rmSync(link, { force: true });
  symlinkSync(target, link);
  refused(["-m", tiny, "--input-format", "jsonl", "-i", corpus, "-f", "f32", "-o", link, "--ids", target],
          `-o ${link} and --ids ${target} are the same file`);
  // Devices and pipes are no files two writers overwrite each other in.
  const discard = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-i", corpus, "-f", "f32",
                          "-o", "/dev/null", "--ids", "/dev/null"]);
  assert.equal(discard.status, 0, discard.stderr);
  // Different files are fine.
  const r = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-i", corpus, "-f", "npy",
                    "-o", join(dir, "rows.npy"), "--ids", join(dir, "rows.ids")]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(dir, "rows.ids"), "utf8").trim().split("\n").length, 2);
});

test("json output of an empty corpus, ids past 64 bits written as they are, read errors named", () => {
  // An empty JSONL corpus is an empty result in every format (json and json+ crashed on it).
  for (const format of ["json", "json+"]) {
    const r = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-f", format], { input: "\n\n" });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.deepEqual([got.dim, got.data], [DIM, []]);
    assert.deepEqual(got.similarity, format === "json+" ? [] : undefined);
  }
  const ids = ["18446744073709551615", "18446744073709551616", "-9223372036854775809", "-0", "7"];
  const r = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "--dim", "1"],
                   { input: ids.map((id) => `{"id":${id},"text":"a"}\n`).join("") });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n").map((l) => l.slice(0, l.indexOf(",")).slice(6)), ids);
  const read = runCli(["embed", "-q", "-m", tiny, "-i", dir]);
  assert.equal(read.status, 1);
  assert.equal(read.stderr, `ggufembed embed: cannot read ${dir}: Is a directory\n`);
});

test("json+ and similarity refuse more texts than their table is for; json builds no table", () => {
  const texts = Array.from({ length: 4097 }, (_, i) => `t${i % 7}`);
  const many = texts.join("\n") + "\n";
  for (const format of ["json+", "similarity"]) {
    // As arguments: one chunk, refused before any text is embedded (from the input, after the
    // first 4096).
    const r = runCli(["embed", "-q", "-m", tiny, "--dim", "2", "-f", format, ...texts]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `ggufembed embed: --format ${format} prints a similarity table of every pair ` +
                 "of texts, for at most 4096 texts; use jsonl, f32 or npy for more\n");
  }
  // 4097 texts in plain json: their vectors only (it computed a 4097 × 4097 table it never
  // printed — at 100,000 texts an abort).
  const r = runCli(["embed", "-q", "-m", tiny, "--dim", "2", "-f", "json"], { input: many });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  assert.equal(got.data.length, 4097);
  assert.equal(got.similarity, undefined);
});

test("a byte-order mark at the start is skipped, a line of \\r is blank, an empty npy has its width", async () => {
  const bom = "\ufeff";
  const plain = runCli(["embed", "-q", "-m", tiny, "-f", "jsonl"], { input: "hello\nworld\n" });
  // It was embedded into the first text (7 tokens instead of 4: another vector).
  const marked = runCli(["embed", "-q", "-m", tiny, "-f", "jsonl"], { input: `${bom}hello\nworld\n` });
  assert.equal(marked.status, 0, marked.stderr);
  assert.equal(marked.stdout, plain.stdout);
  // In JSONL it made line 1 an error; "\r\r" (a CRLF line holding a "\r") was one too.
  const records = '{"id":1,"text":"hello"}\r\n\r\r\n{"id":2,"text":"world"}\r\n';
  const jsonl = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl"], { input: bom + records });
  assert.equal(jsonl.status, 0, jsonl.stderr);
  const got = jsonl.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(got.map((g) => g.id), [1, 2]);
  assert.deepEqual(got.map((g) => g.embedding), plain.stdout.trim().split("\n").map((l) => JSON.parse(l).embedding));
  // Split across reads, with a newline right after it: still three lines (the part of the mark
  // first scanned kept the next newline from being seen).
  const child = spawn(process.env.GGUFEMBED_CLI, ["embed", "-q", "-m", tiny, "-f", "jsonl"],
                      { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  const closed = new Promise((ok) => child.on("close", ok));
  child.stdin.write(Buffer.from([0xef, 0xbb]));
  await sleep(300);
  child.stdin.end(Buffer.from("\xbfhello\nworld\n", "latin1"));
  assert.equal(await closed, 0);
  assert.equal(out, plain.stdout);
  // Only at the very start: a mark inside the input is text (here not even valid UTF-8).
  const inside = runCli(["embed", "-q", "-m", tiny, "-f", "jsonl", "--on-error", "record"],
                        { input: Buffer.from([...Buffer.from("hello\n"), 0xef, 0xbb, 0x78, 0x0a]) });
  assert.match(JSON.parse(inside.stdout.trim().split("\n")[1]).error.message, /^line 2: .*not valid UTF-8/);
  // An npy file of no rows is (0, dim), not (0, 0).
  const npy = join(dir, "empty.npy");
  const r = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-f", "npy", "-o", npy], { input: "" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(readFileSync(npy, "latin1"), /'shape': \(0, 128\)/);
});
