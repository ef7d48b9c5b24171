// The native CLI: exit codes, messages on stderr, --help for every subcommand, and `info`/`tensor`
// output checked against a GGUF decoded independently in JavaScript.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { dequantizeQ8_0Row, headerCounts, runCli } from "./gguf_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-cli-"));
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
     /^ggufembed synth: --wtype 'q4_0' is not one of q8_0, f16, f32\n$/],
    [["synth", "--seed", "abc", "-o", join(dir, "x.gguf")],
     /^ggufembed synth: option '--seed' expects an integer, got 'abc'\n$/],
    [["synth"], /^ggufembed synth: missing -o FILE\n$/],
    [["synth", "--preset", "1b", "-o", join(dir, "x.gguf")],
     /^ggufembed synth: unknown preset '1b' \(expected tiny or 300m\)\n$/],
    [["tensor", tiny], /^ggufembed tensor: expected a model file and a tensor name/],
    [["tensor", tiny, "nope.weight"], /^ggufembed tensor: .*tiny\.gguf: no tensor named 'nope\.weight'\n$/],
    [["tensor", tiny, "token_embd.weight", "--row", "-1"],
     /^ggufembed tensor: option '--row' is -1, must be between 0 and/],
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
  for (const command of ["info", "tensor", "synth"]) {
    const r = runCli([command, "--help"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, new RegExp(`^usage: ggufembed ${command} `));
    assert.match(r.stdout, /-h, --help/);
  }
  const r = runCli(["--help"]);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /info .*\n.*tensor .*\n.*synth /);
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

test("info text starts with the header line", () => {
  const r = runCli(["info", tiny]);
  assert.equal(r.status, 0);
  const size = readFileSync(tiny).length;
  assert.ok(r.stdout.startsWith(`${tiny}: GGUF v3, ${size} bytes, alignment 32, tensor data at offset `));
  assert.match(r.stdout, /\n37 key\/value pairs:\n/);
  assert.match(r.stdout, /\n95 tensors:\n/);
});
