// The native CLI: exit codes, messages on stderr, --help for every subcommand, and `info`/`tensor`
// output checked against a GGUF decoded independently in JavaScript.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync,
  writeFileSync, writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { dequantizeQ8_0Row, ggufHeader, headerCounts, runCli, str, u32, u64 } from "./gguf_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-cli-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const tiny = join(dir, "tiny.gguf");

test("synth writes a model", () => {
  const r = runCli(["synth", "--preset", "tiny", "--seed", "3", "-o", tiny]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^wrote .*tiny\.gguf \(preset tiny, q8_0\) in \d+\.\d s\n$/);
});

test("--version names the SIMD target", () => {
  const r = runCli(["--version"]);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^ggufembed \d+\.\d+\.\d+ \(SIMD target [A-Z0-9_]+; supported: [A-Z0-9_ ]+\)\n$/);
});

test("usage errors exit with 2 and say why on stderr", () => {
  const cases = [
    [[], /^usage: ggufembed COMMAND/],
    [["frobnicate"], /^ggufembed: unknown command 'frobnicate'/],
    [["info"], /^ggufembed info: expected exactly one model file \(see --help\)\n$/],
    [["info", "--bogus", tiny], /^ggufembed info: unknown option '--bogus' \(see --help\)\n$/],
    [["synth", "-o", join(dir, "x.gguf"), "--wtype", "q4_0"],
     /^ggufembed synth: --wtype 'q4_0' is not one of q8_0, f16, bf16, f32\n$/],
    [["synth", "--seed", "abc", "-o", join(dir, "x.gguf")],
     /^ggufembed synth: option '--seed' expects an integer, got 'abc'\n$/],
    [["synth"], /^ggufembed synth: missing -o FILE\n$/],
    // A value with leading blanks was an integer (strtoll skips them) where one with trailing
    // blanks was not.
    [["embed", "-m", tiny, "--dim", " 5", "a"], /^ggufembed embed: option '--dim' expects an integer, got ' 5'\n$/],
    [["embed", "-m", tiny, "--dim", "5 ", "a"], /^ggufembed embed: option '--dim' expects an integer, got '5 '\n$/],
    [["--version", "extra"], /^ggufembed: --version takes no arguments \(got 'extra'\)\n$/],
    [["synth", "-o", ""], /^ggufembed synth: option '-o' needs a value, not an empty one\n$/],
    [["embed", "-m", tiny, "-p", "query", "--prompt", "document", "a"],
     /^ggufembed embed: option '--prompt' is given twice\n$/],
    [["embed", "-m", tiny, "-p", "", "a"], /^ggufembed embed: option '-p' needs a value, not an empty one\n$/],
    [["embed", "-m", tiny, "--pooling=", "a"], /^ggufembed embed: option '--pooling' needs a value, not an empty one\n$/],
    [["synth", "--preset", "1b", "-o", join(dir, "x.gguf")],
     /^ggufembed synth: unknown preset '1b' \(expected tiny or 300m\)\n$/],
    [["tensor", tiny], /^ggufembed tensor: expected a model file and a tensor name/],
    [["tensor", tiny, "nope.weight"], /^ggufembed tensor: .*tiny\.gguf: no tensor named 'nope\.weight'\n$/],
    [["tensor", tiny, "token_embd.weight", "--row", "-1"],
     /^ggufembed tensor: option '--row' is -1, must be between 0 and/],
    [["bench", "-m", tiny, "--runs", "0"],
     /^ggufembed bench: option '--runs' is 0, must be between 1 and 1000\n$/],
    [["bench", "-m", tiny, "--target", "sse2"],
     /^ggufembed bench: SIMD target 'sse2' is not one of best, avx512vnni, avx512, avx2, scalar\n$/],
    [["bench", tiny], /^ggufembed bench: missing -m MODEL/],
  ];
  for (const [args, pattern] of cases) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
    assert.equal(r.stdout, "");
  }
});

test("bad files exit with 1 and name the file and the problem", () => {
  const garbage = join(dir, "garbage.gguf");
  writeFileSync(garbage, "this is not a model at all");
  let r = runCli(["info", garbage]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr,
    `ggufembed info: ${garbage}: not a GGUF file: offset 0: magic is 'this' (0x74686973), expected 'GGUF'\n`);
  r = runCli(["info", join(dir, "missing.gguf")]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `ggufembed info: ${join(dir, "missing.gguf")}: cannot open: No such file or directory\n`);
  const truncated = join(dir, "truncated.gguf");
  const bytes = readFileSync(tiny);
  writeFileSync(truncated, bytes.subarray(0, bytes.length - 1000));
  r = runCli(["info", truncated]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^ggufembed info: .*truncated\.gguf: offset \d+: tensor '[^']+': data \[\d+, \+\d+\) lies outside the file/);
  r = runCli(["tensor", tiny, "token_embd.weight", "--row", "4096"]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "ggufembed tensor: tensor 'token_embd.weight' has 4096 rows; row 4096 does not exist\n");
});

test("every subcommand has --help", () => {
  for (const command of ["embed", "bench", "tokenize", "info", "tensor", "synth"]) {
    const r = runCli([command, "--help"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, new RegExp(`^usage: ggufembed ${command} `));
    assert.match(r.stdout, /-h, --help/);
  }
  const r = runCli(["--help"]);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /embed .*\n.*bench .*\n.*tokenize .*\n.*info .*\n.*tensor .*\n.*synth /);
});

test("bench --json times the default texts and accounts for every operation", () => {
  const r = runCli(["bench", "-m", tiny, "--runs", "2", "--long-tokens", "40", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.runs, 2);
  assert.deepEqual(report.texts.map((t) => t.label), ["short", "long"]);
  const [short, long] = report.texts;
  // Token counts agree with `tokenize` on the same texts.
  for (const t of report.texts) {
    const ids = JSON.parse(runCli(["tokenize", "-m", tiny, t.text]).stdout);
    assert.equal(t.tokens, ids.length, t.label);
  }
  assert.equal(long.tokens, 40);
  assert.ok(short.tokens < long.tokens);
  for (const t of report.texts) {
    assert.ok(t.min_ms > 0 && t.min_ms <= t.median_ms, t.label);
    assert.deepEqual(Object.keys(t.profile_ms),
                     ["matmul", "attention", "norms+rope", "geglu", "pooling+dense", "other"]);
    for (const ms of Object.values(t.profile_ms)) assert.ok(ms >= 0 && Number.isFinite(ms));
  }
  assert.ok(report.load_ms > 0 && report.peak_rss_mb > 0);
  assert.ok(report.workspace_mb > 0 && report.workspace_mb < report.peak_rss_mb);
});

test("bench --long-tokens repeats the passage up to the model's context, and no further", () => {
  const r = runCli(["bench", "-m", tiny, "-n", "1", "--warmup", "0", "--long-tokens", "1500", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const long = JSON.parse(r.stdout).texts[1];
  assert.equal(long.label, "long");
  // The passage alone is about 830 tokens of this vocabulary; cut at a word, within 1500.
  assert.ok(long.tokens <= 1500 && long.tokens > 1450, String(long.tokens));
  const over = runCli(["bench", "-m", tiny, "--long-tokens", "2049"]);
  assert.equal(over.status, 2);
  assert.equal(over.stderr, "ggufembed bench: --long-tokens 2049 is more than the model's context of 2048 tokens\n");
});

test("info --json agrees with the header decoded in JavaScript", () => {
  const r = runCli(["info", "--json", tiny]);
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  const bytes = readFileSync(tiny);
  const counts = headerCounts(bytes);
  assert.equal(counts.magic, 0x46554747);
  assert.equal(info.version, counts.version);
  assert.equal(info.metadata.length, counts.nKv);
  assert.equal(info.tensors.length, counts.nTensors);
  assert.equal(info.file_size, bytes.length);
  assert.equal(info.data_offset % 32, 0);
  const tokens = info.metadata.find((m) => m.key === "tokenizer.ggml.tokens");
  assert.deepEqual({ type: tokens.type, element_type: tokens.element_type, count: tokens.count },
                   { type: "arr", element_type: "str", count: 4096 });
  assert.deepEqual(tokens.values.slice(0, 5), ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]);
  const embd = info.tensors.find((t) => t.name === "token_embd.weight");
  assert.deepEqual(embd, { name: "token_embd.weight", type: "Q8_0", shape: [128, 4096], offset: 0, bytes: 4096 * 136 });
  const full = JSON.parse(runCli(["info", "--json", "--full-arrays", tiny]).stdout);
  assert.equal(full.metadata.find((m) => m.key === "tokenizer.ggml.tokens").values.length, 4096);
});

test("tensor prints the row that a JavaScript Q8_0 decoder reads", () => {
  const info = JSON.parse(runCli(["info", "--json", tiny]).stdout);
  const bytes = readFileSync(tiny);
  for (const [name, row] of [["token_embd.weight", 0], ["token_embd.weight", 4095], ["blk.6.ffn_down.weight", 77]]) {
    const t = info.tensors.find((x) => x.name === name);
    const r = runCli(["tensor", tiny, name, "--row", String(row)]);
    assert.equal(r.status, 0, r.stderr);
    const values = JSON.parse(r.stdout).map(Math.fround);
    assert.deepEqual(values, dequantizeQ8_0Row(bytes, info.data_offset + t.offset, t.shape[0], row));
  }
});

test("info shows odd key and tensor names quoted; info --json and tensor name non-finite values", () => {
  const info = JSON.parse(runCli(["info", "--json", tiny]).stdout);
  const bytes = Buffer.from(readFileSync(tiny));
  // Same-length renames in place: a NUL and a newline in a key, a control byte and invalid UTF-8
  // in a tensor's name.
  const rename = (from, to) => {
    const at = bytes.indexOf(Buffer.from(from));
    assert.ok(at > 0, from);
    Buffer.from(to, "latin1").copy(bytes, at);
  };
  rename("general.name", "gene\0al\nname");
  rename("output_norm.weight", "output\x01norm.\xffeight");
  // A norm's first values made NaN, +inf and -inf (F32, little-endian).
  const norm = info.tensors.find((t) => t.name === "blk.0.attn_q_norm.weight");
  assert.equal(norm.type, "F32");
  const at = info.data_offset + norm.offset;
  bytes.writeFloatLE(NaN, at);
  bytes.writeFloatLE(Infinity, at + 4);
  bytes.writeFloatLE(-Infinity, at + 8);
  // And an f32 metadata value made NaN.
  const eps = "gemma-embedding.attention.layer_norm_rms_epsilon";
  const value = bytes.indexOf(Buffer.from(eps)) + eps.length;
  assert.equal(bytes.readUInt32LE(value), 6);  // f32
  bytes.writeFloatLE(NaN, value + 4);
  const odd = join(dir, "odd.gguf");
  writeFileSync(odd, bytes);
  const text = runCli(["info", odd]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /\| "gene\\u0000al\\nname" = "/);
  assert.match(text.stdout, /: "output\\u0001norm\.\uFFFDeight" +F32 /);
  assert.match(text.stdout, /\| general\.architecture = "gemma-embedding"\n/);  // plain names stay plain
  const lines = text.stdout.split("\n");
  assert.equal(lines.length, runCli(["info", tiny]).stdout.split("\n").length);  // no line broken
  const json = JSON.parse(runCli(["info", "--json", odd]).stdout);
  assert.ok(json.metadata.some((m) => m.key === "gene\0al\nname"));
  assert.equal(json.metadata.find((m) => m.key === eps).value, "NaN");  // as tensor names it
  const r = runCli(["tensor", odd, "blk.0.attn_q_norm.weight"]);
  assert.equal(r.status, 0, r.stderr);
  const values = JSON.parse(r.stdout);
  assert.deepEqual(values.slice(0, 3), ["NaN", "Infinity", "-Infinity"]);
  assert.deepEqual(values.slice(3), JSON.parse(runCli(["tensor", tiny, "blk.0.attn_q_norm.weight"]).stdout).slice(3));
});

test("info --full-arrays streams: a 1 GiB array prints without holding its dump", () => {
  // A sparse file: one key holding 2^30 u8 zeros (its dump would be 3 GB of text).
  const header = Buffer.concat([ggufHeader(0, 1), str("huge"), u32(9), u32(0), u64(2 ** 30)]);  // [u8]
  const huge = join(dir, "huge-array.gguf");
  const fd = openSync(huge, "w");
  writeSync(fd, header);
  ftruncateSync(fd, header.length + 2 ** 30);
  closeSync(fd);
  try {
    // Address space for the mapped file and the program, far from the dump's 3 GB.
    const r = spawnSync("sh", ["-c", 'ulimit -v 1800000; "$0" info --full-arrays "$1" | head -c 300',
                               process.env.GGUFEMBED_CLI, huge], { encoding: "utf8", timeout: 60000 });
    assert.equal(r.stderr, "");
    assert.ok(r.stdout.includes(`huge-array.gguf: GGUF v3, ${header.length + 2 ** 30} bytes`), r.stdout);
    assert.match(r.stdout, /\| huge = \[0, 0, 0, 0/);
  } finally {
    rmSync(huge);
  }
});

test("tensor names the file and the tensor when its type has no dequantizer", () => {
  // A GGUF of one Q2_K tensor "t" of 256 values (one 84-byte block), no metadata: one dimension,
  // type 10, offset 0.
  const info = Buffer.concat([ggufHeader(1, 0), str("t"), u32(1), u64(256), u32(10), u64(0)]);
  const padded = Math.ceil(info.length / 32) * 32;
  const path = join(dir, "q2k.gguf");
  writeFileSync(path, Buffer.concat([info, Buffer.alloc(padded - info.length + 84)]));
  const r = runCli(["tensor", path, "t"]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `ggufembed tensor: ${path}: tensor 't': no dequantizer for tensor type Q2_K\n`);
});

test("info text starts with the header line", () => {
  const r = runCli(["info", tiny]);
  assert.equal(r.status, 0);
  const size = readFileSync(tiny).length;
  assert.ok(r.stdout.startsWith(`${tiny}: GGUF v3, ${size} bytes, alignment 32, tensor data at offset `));
  assert.match(r.stdout, /\n37 key\/value pairs:\n/);
  assert.match(r.stdout, /\n95 tensors:\n/);
});

// ------------------------------------------------------------------ embed and tokenize

function norm(v) {
  return Math.hypot(...v);
}

test("embed prints JSON with one normalized vector per text", () => {
  const r = runCli(["embed", "-m", tiny, "first text", "second text"]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.model, tiny);
  assert.equal(out.dim, 128);
  assert.equal(out.normalized, true);
  assert.equal(out.data.length, 2);
  for (const [i, d] of out.data.entries()) {
    assert.equal(d.index, i);
    assert.equal(d.truncated, false);
    assert.equal(d.embedding.length, 128);
    assert.ok(Math.abs(norm(d.embedding) - 1) < 1e-6);
  }
  // The token count is what tokenize reports for the same text.
  const ids = JSON.parse(runCli(["tokenize", "-m", tiny, "first text"]).stdout);
  assert.equal(out.data[0].tokens, ids.length);
});

test("embed reads one text per line from stdin and streams JSONL", () => {
  const r = runCli(["embed", "-m", tiny, "-f", "jsonl"], { input: "alpha\r\nbeta\n\ngamma" });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.index), [0, 1, 2, 3]);
  // CR is stripped; the empty line is the empty text (BOS + EOS).
  const alpha = JSON.parse(runCli(["embed", "-m", tiny, "-f", "jsonl", "alpha"]).stdout);
  assert.deepEqual(lines[0].embedding, alpha.embedding);
  assert.equal(lines[2].tokens, 2);
  const none = runCli(["embed", "-m", tiny], { input: "" });
  assert.equal(none.status, 2);
  assert.equal(none.stderr, "ggufembed embed: no TEXT arguments and nothing on the input\n");
});

test("embed empties -o and --ids only once a record is read", () => {
  const out = join(dir, "kept.json"), ids = join(dir, "kept.ids");
  const fresh = join(dir, "fresh.f32"), freshIds = join(dir, "fresh.ids");
  writeFileSync(out, "the last run's results\n");
  writeFileSync(ids, "its ids\n");
  // Nothing on the input, or an input that cannot be read: an earlier output stays as it was and
  // a file the run would have created is not left behind.
  for (const [args, input] of [[[], ""], [["-i", dir], undefined]]) {
    for (const [o, i] of [[out, ids], [fresh, freshIds]]) {
      const r = runCli(["embed", "-m", tiny, "-f", "f32", "-o", o, "--ids", i, ...args], { input });
      assert.notEqual(r.status, 0);
    }
    assert.equal(readFileSync(out, "utf8"), "the last run's results\n");
    assert.equal(readFileSync(ids, "utf8"), "its ids\n");
    assert.ok(!existsSync(fresh) && !existsSync(freshIds));
  }
  // A record read empties them, even when it is the one that fails (the records before it, none,
  // are the output); a shorter result leaves nothing of the longer file.
  let r = runCli(["embed", "-m", tiny, "-f", "jsonl", "-o", out], { input: Buffer.from([0xff, 0x0a]) });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(readFileSync(out, "utf8"), "");
  writeFileSync(out, "x".repeat(100000));
  r = runCli(["embed", "-m", tiny, "-f", "jsonl", "-o", out], { input: "a\n" });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readFileSync(out, "utf8"), runCli(["embed", "-m", tiny, "-f", "jsonl"], { input: "a\n" }).stdout);
  // An empty JSONL corpus is an empty result, written.
  writeFileSync(out, "old");
  r = runCli(["embed", "-m", tiny, "--input-format", "jsonl", "-o", out], { input: "" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(out, "utf8"), "");
});

test("-o - is embed's standard output; synth refuses it", () => {
  const embedded = spawnSync(process.env.GGUFEMBED_CLI, ["embed", "-m", tiny, "-q", "-f", "jsonl", "-o", "-", "a"],
                             { cwd: dir, encoding: "utf8" });
  assert.equal(embedded.status, 0, embedded.stderr);
  assert.equal(embedded.stdout, runCli(["embed", "-m", tiny, "-q", "-f", "jsonl", "a"]).stdout);
  const synth = spawnSync(process.env.GGUFEMBED_CLI, ["synth", "-o", "-"], { cwd: dir, encoding: "utf8" });
  assert.equal(synth.status, 2);
  assert.equal(synth.stderr, "ggufembed synth: -o -: synth writes a file, not the standard output\n");
  assert.ok(!existsSync(join(dir, "-")));
});

test("output that cannot be written is an error, for every subcommand", () => {
  const commands = [["--version"], ["--help"], ["embed", "--help"], ["tokenize", "-m", tiny, "a"],
                    ["info", tiny], ["info", "--json", tiny], ["tensor", tiny, "token_embd.weight"],
                    ["bench", "-m", tiny, "-n", "1", "--warmup", "0", "--long-tokens", "20"],
                    ["embed", "-m", tiny, "a"]];
  const full = openSync("/dev/full", "w");
  try {
    for (const args of commands) {
      // A full disk; and a standard output the shell closed (`>&-`).
      const r = spawnSync(process.env.GGUFEMBED_CLI, args, { stdio: ["ignore", full, "pipe"], encoding: "utf8" });
      assert.equal(r.status, 1, `${args.join(" ")} > /dev/full`);
      assert.match(r.stderr, /cannot write (the standard output|the output): No space left on device|cannot write the standard output\n/, args.join(" "));
      const closed = spawnSync("sh", ["-c", '"$0" "$@" >&-', process.env.GGUFEMBED_CLI, ...args], { encoding: "utf8" });
      assert.equal(closed.status, 1, `${args.join(" ")} >&-`);
      assert.match(closed.stderr, /cannot write/, args.join(" "));
    }
  } finally {
    closeSync(full);
  }
});

test("synth that cannot finish leaves the old file whole; --vocab must be a regular file", () => {
  const keep = join(dir, "keep.gguf");
  const other = runCli(["synth", "--preset", "tiny", "--seed", "9", "-o", keep]);
  assert.equal(other.status, 0, other.stderr);
  const before = readFileSync(keep);
  // A file size limit below the model's size: the CLI ignores SIGXFSZ (which killed it, exit
  // 153, with no message and the temporary file left), so the write fails with EFBIG.
  const limited = (command, ...args) => spawnSync(
    "sh", ["-c", `ulimit -f 500; exec "$0" ${command}`, process.env.GGUFEMBED_CLI, ...args],
    { encoding: "utf8" });
  const r = limited('synth -o "$1"', keep);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /keep\.gguf: write failed: File too large/);
  assert.ok(readFileSync(keep).equals(before), "the old model was damaged");
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes(".partial")), []);
  // The same limit on embed's output.
  const e = limited('embed -m "$1" -f raw --pooling none --truncate -o "$2" -- "$3"', keep,
                    join(dir, "big.txt"), "a text ".repeat(3000));  // 2,048 rows, about 3 MB
  assert.equal(e.status, 1, e.stderr);
  assert.match(e.stderr, /^ggufembed embed: cannot write .*big\.txt: File too large\n$/);
  for (const [vocab, kind] of [[dir, "a directory"], ["/dev/zero", "a character device"]]) {
    const v = runCli(["synth", "-o", join(dir, "v.gguf"), "--vocab", vocab], { timeout: 20000 });
    assert.equal(v.status, 1, v.stderr);
    assert.equal(v.stderr, `ggufembed synth: ${vocab}: not a regular file (${kind})\n`);
  }
});

test("formats of one vector per text refuse pooling none, asked for or the file's", () => {
  for (const format of ["json+", "similarity", "f32"]) {
    const r = runCli(["embed", "-m", tiny, "--pooling", "none", "-f", format, "-o", join(dir, "p.out"), "a", "b"]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `ggufembed embed: --format ${format} needs one vector per text: not with --pooling none\n`);
  }
  // A file whose pooling_type is none (0): the table would compare the texts' first tokens.
  const bytes = readFileSync(tiny);
  const key = bytes.indexOf("gemma-embedding.pooling_type");
  assert.ok(key > 0);
  const value = key + "gemma-embedding.pooling_type".length;
  assert.equal(bytes.readUInt32LE(value), 4);  // u32
  assert.equal(bytes.readUInt32LE(value + 4), 1);  // mean
  bytes.writeUInt32LE(0, value + 4);
  const noPooling = join(dir, "no-pooling.gguf");
  writeFileSync(noPooling, bytes);
  const r = runCli(["embed", "-m", noPooling, "-f", "json+", "a", "b"]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "ggufembed embed: --format json+ needs one vector per text, and the model's pooling is none (give --pooling)\n");
  const mean = runCli(["embed", "-m", noPooling, "-q", "--pooling", "mean", "-f", "json+", "a", "b"]);
  assert.equal(mean.status, 0, mean.stderr);
  assert.deepEqual(JSON.parse(mean.stdout).similarity,
                   JSON.parse(runCli(["embed", "-m", tiny, "-q", "-f", "json+", "a", "b"]).stdout).similarity);
});

test("embed -f raw --on-error record: a failed text is its error's JSON on its line", () => {
  const input = Buffer.concat([Buffer.from("alpha\n"), Buffer.from([0xff, 0x0a]), Buffer.from("beta\n")]);
  const r = runCli(["embed", "-m", tiny, "-f", "raw", "--on-error", "record"], { input });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.equal(lines.length, 4);
  assert.equal(lines[3], "");
  const raw = (text) => runCli(["embed", "-m", tiny, "-f", "raw", text]).stdout;
  assert.equal(`${lines[0]}\n`, raw("alpha"));
  assert.equal(`${lines[2]}\n`, raw("beta"));
  assert.deepEqual(JSON.parse(lines[1]), { index: 1, error: { code: "invalid_argument",
    message: "line 2: text is not valid UTF-8 at byte 0 (0xFF)" } });
});

test("embed -f raw --pooling none: each text's token rows end with an empty line", () => {
  const texts = ["a b", "c", "d e f"];
  const r = runCli(["embed", "-m", tiny, "-q", "--pooling", "none", "-f", "raw", ...texts]);
  assert.equal(r.status, 0, r.stderr);
  const blocks = r.stdout.split("\n\n");
  assert.equal(blocks.pop(), "");
  assert.equal(blocks.length, texts.length);
  for (let i = 0; i < texts.length; i++) {
    const alone = runCli(["embed", "-m", tiny, "-q", "--pooling", "none", "-f", "raw", texts[i]]).stdout;
    assert.equal(`${blocks[i]}\n\n`, alone);
    const tokens = JSON.parse(runCli(["tokenize", "-m", tiny, texts[i]]).stdout).length;
    assert.equal(blocks[i].split("\n").length, tokens);
  }
  // An error in its place is a block too.
  const input = Buffer.concat([Buffer.from("a b\n"), Buffer.from([0xff, 0x0a]), Buffer.from("c\n")]);
  const e = runCli(["embed", "-m", tiny, "-q", "--pooling", "none", "-f", "raw", "--on-error", "record"], { input });
  assert.equal(e.status, 0, e.stderr);
  const parts = e.stdout.split("\n\n");
  assert.equal(parts.length, 4);
  assert.equal(JSON.parse(parts[1]).error.code, "invalid_argument");
});

test("the similarity table's labels: whole characters, no control characters", () => {
  const r = runCli(["embed", "-m", tiny, "-q", "-f", "similarity", "red\x1b[31mtext\x07", `a${"é".repeat(25)}`]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.ok(lines[1].startsWith("red [31mtext "), JSON.stringify(lines[1]));
  assert.ok(!/[\x00-\x1f\x7f]/.test(r.stdout.replace(/\n/g, "")));
  assert.ok(lines[2].startsWith(`a${"é".repeat(12)}...`), lines[2]);  // 25 bytes: é kept whole
  assert.ok(!r.stdout.includes("\uFFFD"));
});

test("embed formats: raw, json+ and the similarity table agree", () => {
  const texts = ["cats sleep a lot", "cats nap often", "stock prices fell"];
  const plus = JSON.parse(runCli(["embed", "-m", tiny, "-f", "json+", ...texts]).stdout);
  const raw = runCli(["embed", "-m", tiny, "-f", "raw", ...texts]).stdout.trim().split("\n")
    .map((l) => l.split(" ").map(Number));
  assert.equal(raw.length, 3);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(raw[i].map(Math.fround), plus.data[i].embedding.map(Math.fround));
  }
  // Cosine similarity of normalized vectors is their dot product.
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      const dot = plus.data[a].embedding.reduce((s, x, i) => s + x * plus.data[b].embedding[i], 0);
      assert.ok(Math.abs(plus.similarity[a][b] - dot) < 1e-5);
    }
  }
  const table = runCli(["embed", "-m", tiny, "-f", "similarity", ...texts]).stdout.split("\n");
  assert.equal(table[0], "cosine similarity:");
  assert.match(table[1], /^cats sleep a lot\s+1\.000 /);
  assert.equal(Number(table[1].trim().split(/\s+/).at(-1)), Number(plus.similarity[0][2].toFixed(3)));
});

test("embed options: dim, no-normalize, prompts, pooling", () => {
  const text = "what is a fox";
  const raw = JSON.parse(runCli(["embed", "-m", tiny, "--no-normalize", "-f", "jsonl", text]).stdout).embedding;
  const cut = JSON.parse(runCli(["embed", "-m", tiny, "--dim", "32", "-f", "jsonl", text]).stdout).embedding;
  assert.equal(cut.length, 32);
  const head = raw.slice(0, 32);
  const n = norm(head);
  head.forEach((x, i) => assert.ok(Math.abs(cut[i] - x / n) < 1e-6));
  const prompted = JSON.parse(runCli(["embed", "-m", tiny, "-p", "query", "-f", "jsonl", text]).stdout);
  const spelled = JSON.parse(runCli(["embed", "-m", tiny, "-f", "jsonl", `task: search result | query: ${text}`]).stdout);
  assert.deepEqual(prompted, spelled);
  const tokens = JSON.parse(runCli(["embed", "-m", tiny, "--pooling", "none", "-f", "jsonl", text]).stdout);
  assert.equal(tokens.embedding.length, tokens.tokens);
  assert.equal(tokens.embedding[0].length, 128);
});

test("embed errors name the text, the limit and the option", () => {
  const long = "zq".repeat(1100);  // 2202 tokens in the tiny vocabulary
  let r = runCli(["embed", "-m", tiny, "ok", long]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, "ggufembed embed: text 2: the text is 2202 tokens long, more than the " +
    "model's context of 2048 tokens (use truncation to embed its beginning)\n");
  r = runCli(["embed", "-m", tiny, "-f", "jsonl"], { input: `ok\n${long}\n` });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^ggufembed embed: line 2: the text is 2202 tokens long/);
  r = runCli(["embed", "-m", tiny, "--truncate", "-f", "jsonl", long]);
  assert.equal(r.status, 0);
  const cut = JSON.parse(r.stdout);
  assert.deepEqual([cut.tokens, cut.truncated, cut.input_tokens], [2048, true, 2202]);
  const cases = [
    [["embed", "ok"], /^ggufembed embed: missing -m MODEL\.gguf\n$/],
    [["embed", "-m", tiny, "--dim", "129", "x"],
     /^ggufembed embed: dim 129 is outside the model's output size \(1 to 128, or 0 for all\)\n$/],
    [["embed", "-m", tiny, "-p", "search", "x"], /^ggufembed embed: unknown prompt 'search' \(known: query, /],
    [["embed", "-m", tiny, "--pooling", "max", "x"],
     /^ggufembed embed: pooling 'max' is not one of mean, cls, last, none\n$/],
    [["embed", "-m", tiny, "-f", "xml", "x"],
     /^ggufembed embed: --format 'xml' is not one of json, json\+, jsonl, raw, similarity, f32, npy\n$/],
  ];
  for (const [args, pattern] of cases) {
    r = runCli(args);
    assert.equal(r.status, 2, args.join(" "));
    assert.match(r.stderr, pattern);
  }
  // Invalid UTF-8 can only arrive as bytes: through stdin.
  r = runCli(["embed", "-m", tiny, "-f", "jsonl"], { input: Buffer.from([0x6f, 0x6b, 0x0a, 0x62, 0xff, 0x0a]) });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, "ggufembed embed: line 2: text is not valid UTF-8 at byte 1 (0xFF)\n");
});

test("embed with a model without dense layers notes it once on stderr", () => {
  const plain = join(dir, "tiny-nodense.gguf");
  assert.equal(runCli(["synth", "--no-dense", "-o", plain]).status, 0);
  const r = runCli(["embed", "-m", plain, "a", "b"]);
  assert.equal(r.status, 0);
  assert.equal(r.stderr.split("\n").filter((l) => l.includes("no dense_2/dense_3")).length, 1);
  assert.equal(runCli(["embed", "-q", "-m", plain, "a"]).stderr, "");
});

test("tokenize prints ids, pieces, and honours --no-special", () => {
  const ids = JSON.parse(runCli(["tokenize", "-m", tiny, "a<eos>b"]).stdout);
  assert.equal(ids[0], 2);
  assert.equal(ids.at(-1), 1);
  assert.equal(ids.filter((x) => x === 1).length, 2);  // the text's <eos> and the final one
  const plain = JSON.parse(runCli(["tokenize", "-m", tiny, "--no-special", "a<eos>b"]).stdout);
  assert.ok(!plain.includes(1) && !plain.includes(2));
  const pieces = JSON.parse(runCli(["tokenize", "-m", tiny, "--pieces", "hello"]).stdout);
  assert.deepEqual(pieces.map((p) => p.id), JSON.parse(runCli(["tokenize", "-m", tiny, "hello"]).stdout));
  assert.equal(pieces[0].piece, "<bos>");
  assert.equal(pieces.slice(1, -1).map((p) => p.piece).join(""), "hello");
  const r = runCli(["tokenize", "-m", tiny]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "ggufembed tokenize: expected exactly one TEXT (quote it)\n");
  // A text that is not UTF-8 fails the work (1), as in embed, not the command line (2). (Node
  // passes arguments as UTF-8 strings: the shell makes the byte.)
  const withByte = (command) => spawnSync(
    "sh", ["-c", `"$0" ${command} -m "$1" "$(printf 'a\\377')"`, process.env.GGUFEMBED_CLI, tiny],
    { encoding: "utf8" });
  const bad = withByte("tokenize");
  assert.equal(bad.status, 1, bad.stderr);
  assert.equal(bad.stderr, "ggufembed tokenize: text is not valid UTF-8 at byte 1 (0xFF)\n");
  assert.equal(withByte("embed").status, 1);
  // And in bench, naming which of its texts.
  const timed = withByte("bench -n 1 --warmup 0 ok");
  assert.equal(timed.status, 1, timed.stderr);
  assert.equal(timed.stderr, "ggufembed bench: text2: text is not valid UTF-8 at byte 1 (0xFF)\n");
});

test("a vector that is not finite: exit 1 naming the layer, then how to find the weight", () => {
  // The first block scale of blk.0.ffn_down.weight's row 0 set to +inf (f16 0x7C00).
  const info = JSON.parse(runCli(["info", "--json", tiny]).stdout);
  const tensor = info.tensors.find((t) => t.name === "blk.0.ffn_down.weight");
  assert.equal(tensor.type, "Q8_0");
  const bytes = readFileSync(tiny);
  bytes.writeUInt16LE(0x7c00, info.data_offset + tensor.offset);
  const poisoned = join(dir, "poisoned.gguf");
  writeFileSync(poisoned, bytes);
  const note = (command) => `ggufembed ${command}: note: \`ggufembed info --check-tensors ${poisoned}\` ` +
                            "checks every weight for NaN and infinity";
  const embed = runCli(["embed", "-m", poisoned, "-q", "hello world"]);
  assert.equal(embed.status, 1);
  const lines = embed.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 2, embed.stderr);
  assert.match(lines[0], /^ggufembed embed: text 1: the model computed a value that is not finite \(.* at token 0, column \d+\) in layer 0's feed-forward block: a weight of that layer is NaN or infinite, or the activations overflowed$/);
  assert.equal(lines[1], note("embed"));
  // Asked for, the scan names the tensor before any text, and there is nothing to suggest.
  const checked = runCli(["embed", "-m", poisoned, "-q", "--check-tensors", "hello world"]);
  assert.equal(checked.status, 1);
  assert.equal(checked.stderr, `ggufembed embed: ${poisoned}: tensor 'blk.0.ffn_down.weight' holds a ` +
                               "value that is not finite (inf at row 0, column 0): the model file is broken\n");
  const bench = runCli(["bench", "-m", poisoned, "--runs", "1", "--warmup", "0", "hello"]);
  assert.equal(bench.status, 1);
  assert.equal(bench.stderr.trimEnd().split("\n")[1], note("bench"));
});
