// A model loaded from a Blob or a path keeps its token embedding table in the file and reads the
// rows its texts need: the vectors of a load of the bytes (all of them in the heap) bit for bit,
// reads only where those rows are, the whole table at once for a call that needs many, and read
// failures that are GgufembedErrors after which the model still works.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { GgufembedError, loadEmbedder, openGguf } from "../../js/dist/index.js";
import { runCli } from "../node/gguf_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-wasm-rows-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const TEXTS = ["Rows come in as texts need them.", "ein zweiter Satz", "a third one"];

// The model file of `arch`, its bytes and the table's place, read independently of the loader
// under test, and three texts that together hold over 1,100 distinct tokens (the pieces that
// are one token alone, a line each), each within the context.
async function modelOf(arch) {
  const path = join(dir, `${arch}.gguf`);
  assert.equal(runCli(["synth", "--arch", arch, "--preset", "tiny", "-o", path]).status, 0);
  const bytes = readFileSync(path);
  const gguf = await openGguf(bytes);
  const info = gguf.info({ maxArrayItems: 0 });
  gguf.close();
  const t = info.tensors.find((x) => x.name === "token_embd.weight");
  const begin = info.dataOffset + t.offset;
  const table = { begin, end: begin + t.bytes, rowBytes: t.bytes / t.shape[1] };
  const e = await loadEmbedder(path);
  const lines = [];
  for (const piece of info.metadata.find((kv) => kv.key === "tokenizer.ggml.tokens").values) {
    const text = piece.replaceAll("▁", " ");
    if (/^<.*>$/.test(piece) || /\n/.test(text)) continue;
    if ((await e.tokenize(text, { addSpecial: false, parseSpecial: false })).length === 1) lines.push(text);
  }
  const many = [0, 1, 2].map((k) => lines.slice(k * 400, (k + 1) * 400).join("\n"));
  const distinct = new Set();
  for (const text of many) for (const id of await e.tokenize(text)) distinct.add(id);
  e.dispose();
  assert.ok(distinct.size > 1100, `${distinct.size} distinct tokens`);
  return { path, bytes, table, many };
}

// A Blob that records the [from, to) of every slice read, and can make them fail or wait.
class WatchedBlob extends Blob {
  reads = [];
  fail = false;
  hold = undefined;  // a promise row reads (arrayBuffer) wait for
  slice(from, to) {
    const part = super.slice(from, to);
    const blob = this;
    blob.reads.push([from, to]);
    return {
      stream: () => part.stream(),
      async arrayBuffer() {
        await blob.hold;
        if (blob.fail) throw new Error("the file changed on disk");
        return part.arrayBuffer();
      },
    };
  }
}

for (const arch of ["gemma-embedding", "gemma-embedding2"]) {
  test(`${arch}: a Blob's token embeddings stay in it until texts need them`, async () => {
    const { path, bytes, table, many } = await modelOf(arch);
    const whole = await loadEmbedder(bytes);
    const reference = (await whole.embedBatch([...TEXTS, ...many])).map((r) => r.vector);
    whole.dispose();
    const byPath = await loadEmbedder(path);
    assert.deepEqual((await byPath.embedBatch([...TEXTS, ...many])).map((r) => r.vector), reference);
    byPath.dispose();

    const blob = new WatchedBlob([bytes]);
    const e = await loadEmbedder(blob, { name: "watched.gguf" });
    const loadReads = blob.reads.splice(0);
    const read = loadReads.reduce((n, [from, to]) => n + to - from, 0);
    // The header is read in growing pieces (the first 64 KiB); what follows the table's first
    // rows is read only outside the table.
    assert.ok(read <= bytes.length - (table.end - table.begin) / 2, `${read} of ${bytes.length} bytes read`);
    assert.ok(loadReads.every(([from, to]) => to <= table.begin + (128 << 10) || from >= table.end));

    // Rows as texts need them, from the table only, whole rows; none twice.
    const vectors = (await e.embedBatch(TEXTS)).map((r) => r.vector);
    assert.deepEqual(vectors, reference.slice(0, 3));
    const rowReads = blob.reads.splice(0);
    assert.ok(rowReads.length > 0);
    for (const [from, to] of rowReads) {
      assert.ok(from >= table.begin && to <= table.end && to > from);
      assert.equal((from - table.begin) % table.rowBytes, 0);
      assert.equal((to - from) % table.rowBytes, 0);
    }
    assert.deepEqual((await e.embedBatch(TEXTS)).map((r) => r.vector), vectors);
    assert.equal(blob.reads.length, 0);

    // A call that lacks more than 1,024 rows reads the whole table in one pass, and no call
    // reads again.
    assert.deepEqual((await e.embedBatch(many)).map((r) => r.vector), reference.slice(3));
    assert.deepEqual(blob.reads.splice(0), [[table.begin, table.end]]);
    await e.embed("anything else at all");
    assert.equal(blob.reads.length, 0);
    e.dispose();
  });
}

test("a failed row read is a GgufembedError naming the file; the model works after it", async () => {
  const { bytes } = await modelOf("gemma-embedding");
  const whole = await loadEmbedder(bytes);
  const reference = (await whole.embed(TEXTS[0])).vector;
  whole.dispose();

  const blob = new WatchedBlob([bytes]);
  const e = await loadEmbedder(blob, { name: "changed.gguf" });
  blob.fail = true;
  await assert.rejects(e.embed(TEXTS[0]), (err) => err instanceof GgufembedError &&
    err.code === "io_error" &&
    /^changed\.gguf: cannot read token embeddings \[\d+, \d+\): the file changed on disk$/.test(err.message));
  blob.fail = false;
  assert.deepEqual((await e.embed(TEXTS[0])).vector, reference);

  // Cancelled, or disposed, while rows are read: the call fails, nothing is written, and the
  // instance embeds on.
  let release;
  blob.hold = new Promise((ok) => { release = ok; });
  const controller = new AbortController();
  const cancelled = e.embed("words not seen before", { signal: controller.signal });
  controller.abort();
  release();
  await assert.rejects(cancelled, (err) => err instanceof GgufembedError && err.code === "aborted");
  blob.hold = new Promise((ok) => { release = ok; });
  const disposed = e.embed("other words not seen before");
  e.dispose();
  release();
  await assert.rejects(disposed, (err) => err instanceof GgufembedError && /disposed/.test(err.message));
  const again = await loadEmbedder(new Blob([bytes]));
  assert.deepEqual((await again.embed(TEXTS[0])).vector, reference);
  again.dispose();
});

test("a path's rows come from the file it opened: renamed over or deleted, still it; changed in place, an error", async () => {
  const { bytes } = await modelOf("gemma-embedding");
  const whole = await loadEmbedder(bytes);
  const reference = (await whole.embedBatch(TEXTS)).map((r) => r.vector);
  whole.dispose();
  const other = Buffer.concat([bytes, Buffer.from([0])]);  // another size: whatever the clock's grain
  other.fill(0x55, bytes.length - (bytes.length >> 1));

  // Replaced by a rename (as downloaders write), then deleted: the loaded file is read on.
  const path = join(dir, "replaced.gguf");
  writeFileSync(path, bytes);
  let e = await loadEmbedder(path);
  writeFileSync(`${path}.new`, other);
  renameSync(`${path}.new`, path);
  assert.deepEqual((await e.embed(TEXTS[0])).vector, reference[0]);
  rmSync(path);
  assert.deepEqual((await e.embed(TEXTS[1])).vector, reference[1]);
  e.dispose();

  // Rewritten in place: texts that need rows fail naming the file; those whose rows are in embed.
  writeFileSync(path, bytes);
  e = await loadEmbedder(path);
  assert.deepEqual((await e.embed(TEXTS[0])).vector, reference[0]);
  writeFileSync(path, other);
  await assert.rejects(e.embed(TEXTS[1]), (err) => err instanceof GgufembedError &&
    err.code === "io_error" && err.message.startsWith(`${path}: the file changed on disk after it was loaded`));
  assert.deepEqual((await e.embed(TEXTS[0])).vector, reference[0]);
  e.dispose();

  // Disposed while a path's rows are read, at any moment: the call fails as disposed (the
  // dispose closes the file under the read, which failed as an io_error "file closed").
  writeFileSync(path, bytes);
  for (const delay of [-1, 0, 1, 2, 5]) {
    e = await loadEmbedder(path);
    const pending = e.embed(TEXTS[2]);
    if (delay < 0) e.dispose();
    else setTimeout(() => e.dispose(), delay);
    await pending.then(() => {}, (err) => assert.ok(err instanceof GgufembedError &&
      err.message === "this model was disposed", `delay ${delay}: ${err.message}`));
    e.dispose();
  }
});

test("an embedder dropped without dispose() gives its file handle back when collected", async () => {
  const { bytes } = await modelOf("gemma-embedding");
  const path = join(dir, "dropped.gguf");
  writeFileSync(path, bytes);
  const script = join(dir, "dropped.mjs");
  writeFileSync(script, `import { readdirSync, readlinkSync } from "node:fs";
import { loadEmbedder } from ${JSON.stringify(new URL("../../js/dist/index.js", import.meta.url).href)};
const path = ${JSON.stringify(path)};
const warnings = [];
process.on("warning", (w) => warnings.push(w.name + ": " + w.message));
const open = () => readdirSync("/proc/self/fd").filter((fd) => {
  try { return readlinkSync("/proc/self/fd/" + fd) === path; } catch { return false; }
}).length;
// Three embedders held while their files are counted, dropped when the function returns.
const hold = async () => {
  const kept = [];
  for (let i = 0; i < 3; i++) {
    kept.push(await loadEmbedder(path, { threads: 1 }));
    await kept[i].embed("words " + i);
  }
  return open();
};
const held = await hold();
for (let i = 0; i < 20 && open() > 0; i++) {
  globalThis.gc();
  await new Promise((ok) => setTimeout(ok, 20));
}
console.log(JSON.stringify({ held, after: open(), warnings }));
`);
  const r = spawnSync(process.execPath, ["--expose-gc", script], { encoding: "utf8", timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  // Node closes a collected FileHandle itself, with a warning (DEP0137: to become an error).
  assert.deepEqual(JSON.parse(r.stdout), { held: 3, after: 0, warnings: [] });
});
