// The corpus job through the CLI: JSONL records with ids in and out, in input order, on several
// threads with packed passes (the same vectors as one text at a time); errors in their place or
// stopping the run; f32/npy output with an ids file; streaming through a pipe; a killed run
// leaves a valid prefix.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { runCli, synthTinyModels } from "./gguf_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-corpus-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const { "gemma-embedding": tiny, "gemma-embedding2": eg2 } = synthTinyModels(dir);

// 300 records of 1 to ~120 words, ids of several JSON kinds, some with prompts and titles.
function corpus(n = 300) {
  const records = [];
  for (let i = 0; i < n; i++) {
    const words = 1 + (i * 37) % (i % 10 === 0 ? 120 : 25);
    const text = Array.from({ length: words }, (_, w) => `w${(i * 7 + w * 3) % 50}`).join(" ");
    const id = i % 3 === 0 ? `doc-${i}` : i % 3 === 1 ? i : { n: i };
    const r = { id, text };
    if (i % 4 === 1) r.prompt = "query";
    if (i % 8 === 2) Object.assign(r, { prompt: "document", title: `title ${i}` });
    records.push(r);
  }
  return records;
}
const jsonl = (records) => records.map((r) => JSON.stringify(r)).join("\n") + "\n";
const parseLines = (text) => text.trim().split("\n").map((l) => JSON.parse(l));

for (const [name, model] of [["gemma-embedding", tiny], ["gemma-embedding2", eg2]]) {
  test(`jsonl in and out, ${name}: ids in order, threads and packing give the same vectors`, () => {
    const records = corpus();
    const input = join(dir, `in-${name}.jsonl`), output = join(dir, `out-${name}.jsonl`);
    writeFileSync(input, jsonl(records));
    const fast = runCli(["embed", "-q", "-m", model, "--input-format", "jsonl", "-i", input,
                         "-o", output, "--threads", "2", "--pack-tokens", "128"]);
    assert.equal(fast.status, 0, fast.stderr);
    assert.equal(fast.stdout, "");
    const got = parseLines(readFileSync(output, "utf8"));
    const alone = parseLines(runCli(["embed", "-q", "-m", model, "--input-format", "jsonl",
                                     "--threads", "1", "--pack-tokens", "0"],
                                    { input: jsonl(records) }).stdout);
    assert.equal(got.length, records.length);
    for (let i = 0; i < records.length; i++) {
      assert.deepEqual(got[i].id, records[i].id);
      assert.deepEqual(got[i], alone[i], `record ${i}`);
    }
    // A record's vector is what embedding its text alone with its prompt gives.
    for (const i of [0, 1, 2, 10]) {
      const r = records[i];
      const args = ["embed", "-q", "-m", model, "-f", "jsonl", r.text];
      if (r.prompt) args.push("-p", r.prompt);
      if (r.title) args.push("--title", r.title);
      const single = JSON.parse(runCli(args).stdout);
      assert.deepEqual(got[i].embedding, single.embedding, `record ${i}`);
      assert.equal(got[i].tokens, single.tokens);
      assert.equal(got[i].truncated, false);
    }
  });
}

test("bad records become error records in place with --on-error record", () => {
  const long = Array.from({ length: 3000 }, () => "x").join(" ");
  const lines = [
    JSON.stringify({ id: "a", text: "fine" }),
    "{not json",
    JSON.stringify({ id: "b", txt: "no text" }),
    JSON.stringify({ id: "c", text: 42 }),
    JSON.stringify({ id: "d", text: long }),
    "",  // a blank line is not a record
    JSON.stringify({ id: "e", text: "fine too", prompt: "nope" }),
    JSON.stringify([1, 2]),
    JSON.stringify({ id: "f", text: long, title: "t" }),
    JSON.stringify({ id: "g", text: "last" }),
  ];
  const r = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "--on-error", "record",
                    "--threads", "2"], { input: lines.join("\n") + "\n" });
  assert.equal(r.status, 0, r.stderr);
  const out = parseLines(r.stdout);
  assert.deepEqual(out.map((o) => o.id), ["a", null, "b", "c", "d", "e", null, "f", "g"]);
  const errors = out.map((o) => o.error && `${o.error.code}: ${o.error.message}`);
  assert.equal(errors[0], undefined);
  assert.match(errors[1], /^invalid_argument: line 2: JSON: at byte offset 1 /);
  assert.equal(errors[2], 'invalid_argument: line 3: the record has no "text"');
  assert.equal(errors[3], 'invalid_argument: line 4: "text" is a JSON number, not a string');
  assert.match(errors[4], /^input_too_long: line 5: the text is 3002 tokens long, more than the model's context of \d+ tokens/);
  assert.match(errors[5], /^invalid_argument: line 7: .*nope/);
  assert.equal(errors[6], "invalid_argument: line 8: the record is a JSON array, not an object");
  assert.match(errors[7], /^invalid_argument: line 9: a title needs the document prompt/);
  assert.equal(errors[8], undefined);
  // --truncate embeds the long record's beginning.
  const t = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "--truncate"],
                   { input: lines[4] });
  assert.equal(t.status, 0, t.stderr);
  assert.equal(JSON.parse(t.stdout).truncated, true);
  assert.equal(JSON.parse(t.stdout).input_tokens, 3002);
});

test("the default --on-error fail stops at the bad record after writing those before it", () => {
  const records = corpus(40);
  const lines = records.map((r) => JSON.stringify(r));
  const long = Array.from({ length: 3000 }, () => "x").join(" ");
  lines.splice(25, 0, JSON.stringify({ id: "bad", text: long }));
  const r = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "--threads", "2"],
                   { input: lines.join("\n") });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^ggufembed embed: line 26 \(id "bad"\): the text is 3002 tokens long, more than the model's context/);
  const out = parseLines(r.stdout);
  assert.deepEqual(out.map((o) => o.id), records.slice(0, 25).map((x) => x.id));
});

test("f32 and npy output with an ids file hold the jsonl vectors", () => {
  const records = corpus(50);
  records[7].text = Array.from({ length: 3000 }, () => "y").join(" ");  // too long: an error row
  const input = join(dir, "bin.jsonl");
  writeFileSync(input, jsonl(records));
  const ref = parseLines(runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-i", input,
                                 "--on-error", "record"]).stdout);
  for (const format of ["f32", "npy"]) {
    const out = join(dir, `v.${format}`), ids = join(dir, `v.${format}.ids.jsonl`);
    const r = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-i", input,
                      "-f", format, "-o", out, "--ids", ids, "--on-error", "record"]);
    assert.equal(r.status, 0, r.stderr);
    let bytes = readFileSync(out);
    const dim = ref[0].embedding.length;
    if (format === "npy") {
      assert.equal(bytes.subarray(0, 6).toString("latin1"), "\x93NUMPY");
      const headerLength = bytes.readUInt16LE(8);
      const header = bytes.subarray(10, 10 + headerLength).toString("latin1");
      assert.match(header, new RegExp(`'descr': '<f4', 'fortran_order': False, 'shape': \\(49, ${dim}\\)`));
      assert.equal((10 + headerLength) % 64, 0);
      bytes = bytes.subarray(10 + headerLength);
    }
    const rows = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    assert.equal(rows.length, 49 * dim);
    const index = parseLines(readFileSync(ids, "utf8"));
    assert.equal(index.length, 50);
    for (let i = 0; i < 50; i++) {
      assert.deepEqual(index[i].id, records[i].id);
      if (i === 7) {
        assert.equal(index[i].error.code, "input_too_long");
        continue;
      }
      assert.equal(index[i].tokens, ref[i].tokens);
      const row = Array.from(rows.subarray(index[i].row * dim, (index[i].row + 1) * dim));
      assert.deepEqual(row, ref[i].embedding.map(Math.fround), `record ${i}`);
    }
  }
});

test("every result and error is keyed alike: id for JSONL input and in ids files, else index", () => {
  // JSONL input with json and json+: the records' ids, as jsonl writes them (blank lines are not
  // records, so an index would not say which record a vector belongs to).
  const input = join(dir, "keys.jsonl");
  writeFileSync(input, '{"id": "a", "text": "one"}\n\n{"id": 7, "text": "two"}\n{"text": "three"}\n');
  const lines = parseLines(runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-i", input]).stdout);
  assert.deepEqual(lines.map((l) => l.id), ["a", 7, null]);
  for (const format of ["json", "json+"]) {
    const r = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-i", input, "-f", format]);
    assert.equal(r.status, 0, r.stderr);
    const { data } = JSON.parse(r.stdout);
    assert.deepEqual(data.map((d) => d.id), ["a", 7, null], format);
    assert.ok(data.every((d) => !("index" in d)), format);
    assert.deepEqual(data.map((d) => d.embedding), lines.map((l) => l.embedding), format);
  }
  // Text input: json keeps "index".
  const text = JSON.parse(runCli(["embed", "-q", "-m", tiny, "one", "two"]).stdout);
  assert.deepEqual(text.data.map((d) => d.index), [0, 1]);
  // Text input into f32 with an ids file: an error line is {"id": N, "error"} like the rows'
  // lines (it was {"index": N, ...}, which a reader of "id" missed).
  const out = join(dir, "keys.f32"), ids = join(dir, "keys.ids");
  const b = runCli(["embed", "-q", "-m", tiny, "-f", "f32", "-o", out, "--ids", ids, "--on-error", "record"],
                   { input: Buffer.from("good\n\xff bad\nalso good\n", "latin1") });
  assert.equal(b.status, 0, b.stderr);
  const index = parseLines(readFileSync(ids, "utf8"));
  assert.deepEqual(index.map((l) => l.id), [0, 1, 2]);
  assert.deepEqual(index.map((l) => l.row), [0, undefined, 1]);
  assert.equal(index[1].error.code, "invalid_argument");
  assert.match(index[1].error.message, /^line 2: /);
  assert.ok(index.every((l) => !("index" in l)));
  // Without -q, a run that wrote errors in place says so at the end (it exited 0 in silence).
  const loud = runCli(["embed", "-m", tiny, "--input-format", "jsonl", "--on-error", "record"],
                      { input: '{"id": 1, "text": "ok"}\n{"id": 2}\n{"id": 3, "text": 3}\n' });
  assert.equal(loud.status, 0, loud.stderr);
  assert.equal(loud.stderr, "ggufembed embed: 2 of 3 records failed; their errors are in the output\n");
  // A record that asks for another prompt than document does not take --title (it failed).
  const mixed = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl", "-p", "document", "--title", "T"],
                       { input: '{"id": "d", "text": "x"}\n{"id": "q", "text": "x", "prompt": "query"}\n' });
  assert.equal(mixed.status, 0, mixed.stderr);
  const [d, q] = parseLines(mixed.stdout);
  const alone = (...args) => parseLines(runCli(["embed", "-q", "-m", tiny, "-f", "jsonl", ...args, "x"]).stdout)[0];
  assert.deepEqual(d.embedding, alone("-p", "document", "--title", "T").embedding);
  assert.deepEqual(q.embedding, alone("-p", "query").embedding);
  assert.equal(q.tokens, alone("-p", "query").tokens);
  const quiet = runCli(["embed", "-m", tiny, "-f", "jsonl", "--on-error", "record", "fine"]);
  assert.equal(quiet.status, 0);
  assert.equal(quiet.stderr, "");
});

test("text input: a line holding a NUL is an error (UTF-16 or binary input), not a garbage vector", () => {
  // UTF-16LE with its byte-order mark: every line fails on its NULs (before, the first failed on
  // the mark, which is not UTF-8, and the others were embedded).
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("one\ntwo\nthree\n", "utf16le")]);
  const r = runCli(["embed", "-q", "-m", tiny, "-f", "jsonl", "--on-error", "record"], { input: utf16 });
  assert.equal(r.status, 0, r.stderr);
  const got = parseLines(r.stdout);
  assert.equal(got.length, 4);  // "\n\0" ends each line: the last is the final NUL alone
  assert.ok(got.every((g) => g.error?.code === "invalid_argument"), r.stdout);
  assert.equal(got[0].error.message, "line 1: the text holds a NUL byte at byte 3 (is the input UTF-16 or binary?)");
  assert.equal(got[1].error.message, "line 2: the text holds a NUL byte at byte 0 (is the input UTF-16 or binary?)");
  // One NUL among good lines fails its line alone; --on-error fail stops there.
  const one = runCli(["embed", "-q", "-m", tiny, "-f", "jsonl", "--on-error", "record"], { input: "good\nba\0d\nok\n" });
  assert.deepEqual(parseLines(one.stdout).map((g) => g.error?.message ?? g.index),
                   [0, "line 2: the text holds a NUL byte at byte 2 (is the input UTF-16 or binary?)", 2]);
  const fail = runCli(["embed", "-q", "-m", tiny, "-f", "jsonl"], { input: "good\nba\0d\nok\n" });
  assert.equal(fail.status, 1);
  assert.match(fail.stderr, /line 2: the text holds a NUL byte at byte 2/);
  // In JSONL, "\u0000" is the writer's choice and is embedded.
  const json = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl"], { input: '{"text": "ba\\u0000d"}\n' });
  assert.equal(json.status, 0, json.stderr);
  assert.equal(parseLines(json.stdout)[0].error, undefined);
});

test("embed usage errors for the corpus options", () => {
  const cases = [
    [["--input-format", "xml"], /--input-format 'xml' is not text or jsonl/],
    [["--on-error", "skip"], /--on-error 'skip' is not fail or record/],
    [["--input-format", "jsonl", "-f", "npy"], /--format npy needs -o FILE/],
    [["--input-format", "jsonl", "-f", "f32", "--on-error", "record"], /needs --ids FILE/],
    [["--ids", "x.jsonl"], /--ids goes with --format f32 or npy/],
    [["--threads", "-1", "hi"], /--threads/],
    [["--on-error", "record", "-f", "json", "hi"], /--on-error record needs a streamed format/],
    [["--input-format", "jsonl", "hi"], /--input-format jsonl reads no TEXT/],
    // Not a file named "-" (it was, silently), nor the standard output the rows may take.
    [["--input-format", "jsonl", "-f", "f32", "-o", join(dir, "dash.f32"), "--ids", "-"],
     /--ids needs a file name, not -/],
  ];
  for (const [args, pattern] of cases) {
    const r = runCli(["embed", "-m", tiny, ...args], { input: "" });
    assert.equal(r.status, 2, args.join(" "));
    assert.match(r.stderr, pattern);
  }
  // npy into a pipe: refused before any work (it failed at the first row, "Illegal seek"). A
  // shell's pipe: Node's own stdio pipes are sockets, which /dev/stdout cannot be opened on.
  const npy = spawnSync("bash", ["-c", '"$0" embed -m "$1" --input-format jsonl -f npy -o /dev/stdout | cat; exit ${PIPESTATUS[0]}',
                                 process.env.GGUFEMBED_CLI, tiny], { input: '{"text": "a"}\n', encoding: "utf8" });
  assert.equal(npy.status, 2, npy.stderr);
  assert.match(npy.stderr, /--format npy needs -o FILE to be a file it can seek in .*not a pipe: \/dev\/stdout/);
  assert.equal(npy.stdout, "");
  const missing = runCli(["embed", "-m", tiny, "-i", join(dir, "nope.jsonl")]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read .*nope\.jsonl: No such file/);
  // An empty corpus is an empty result.
  const empty = runCli(["embed", "-m", tiny, "--input-format", "jsonl"], { input: "\n\n" });
  assert.equal(empty.status, 0, empty.stderr);
  assert.equal(empty.stdout, "");
});

test("records written into a pipe come back before the input ends", async () => {
  const child = spawn(process.env.GGUFEMBED_CLI,
                      ["embed", "-q", "-m", tiny, "--input-format", "jsonl", "--threads", "2"]);
  let out = "";
  const waitFor = (n) => new Promise((ok) => {
    const check = () => (out.split("\n").length > n ? ok() : setTimeout(check, 10));
    check();
  });
  child.stdout.on("data", (d) => (out += d));
  child.stdin.write(JSON.stringify({ id: 1, text: "first" }) + "\n");
  child.stdin.write(JSON.stringify({ id: 2, text: "second" }) + "\n");
  await waitFor(2);  // both answered while stdin is still open
  child.stdin.write(JSON.stringify({ id: 3, text: "third" }) + "\n");
  await waitFor(3);
  child.stdin.end();
  const code = await new Promise((ok) => child.on("close", ok));
  assert.equal(code, 0);
  assert.deepEqual(parseLines(out).map((o) => o.id), [1, 2, 3]);
});

test("a killed run leaves a valid prefix of records", async () => {
  const records = corpus(3000);
  const child = spawn(process.env.GGUFEMBED_CLI,
                      ["embed", "-q", "-m", tiny, "--input-format", "jsonl", "--threads", "2"]);
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
    if (out.split("\n").length > 50) child.kill("SIGKILL");
  });
  child.stdin.on("error", () => {});  // the pipe closes under us
  child.stdin.end(jsonl(records));
  await new Promise((ok) => child.on("close", ok));
  const complete = out.slice(0, out.lastIndexOf("\n") + 1);
  const got = parseLines(complete);
  assert.ok(got.length >= 50 && got.length < records.length, `${got.length} records`);
  got.forEach((o, i) => assert.deepEqual(o.id, records[i].id));
});

test("a record that is not JSON stops the run naming its line", () => {
  const input = JSON.stringify({ id: 1, text: "ok" }) + "\n" + '{"id": 2, "text": "\\udc00"}\n';
  const r = runCli(["embed", "-q", "-m", tiny, "--input-format", "jsonl"], { input });
  assert.equal(r.status, 1);
  // The id comes first, so it is recovered from the line that does not parse.
  assert.equal(r.stderr, "ggufembed embed: line 2 (id 2): JSON: at byte offset 19 (line 1, " +
                         "column 20): lone low surrogate \\uDC00\n");
  assert.deepEqual(parseLines(r.stdout).map((o) => o.id), [1]);
});
