// js/src/layout.js, the one table index.js writes `ggufembed_options` by, against the layout the
// C code was compiled with (ggufembed_options_layout in the wasm module): same size, offsets and
// field sizes, so no option can land in the wrong field.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import createGgufembedModule from "../../js/dist/ggufembed.mjs";
import { OPTIONS_LAYOUT, optionsLayoutMismatch, readOptionsLayout } from "../../js/dist/layout.js";

const wasmBinary = readFileSync(new URL("../../js/dist/ggufembed.wasm", import.meta.url));
const mod = await createGgufembedModule({ wasmBinary });

test("the JS table equals the layout the C side reports", () => {
  const reported = readOptionsLayout(mod);
  assert.deepEqual(reported, {
    size: OPTIONS_LAYOUT.size,
    fields: OPTIONS_LAYOUT.fields.map(({ offset, size }) => ({ offset, size })),
  });
  assert.equal(optionsLayoutMismatch(reported), null);
  // The values themselves, as tests/c_api_test.cc expects them in wasm32.
  assert.equal(reported.size, 36);
  assert.deepEqual(reported.fields.map((f) => f.offset), [0, 4, 8, 12, 16, 20, 24, 28, 32]);
  // The table names the C fields in declaration order (as in ggufembed_c.h).
  const header = readFileSync(new URL("../../include/ggufembed/ggufembed_c.h", import.meta.url), "utf8");
  const struct = header.match(/typedef struct ggufembed_options \{([^}]*)\} ggufembed_options;/)[1];
  const declared = [...struct.matchAll(/^\s*[\w ]+?\**\s*(\w+);/gm)].map((m) => m[1]);
  assert.deepEqual(OPTIONS_LAYOUT.fields.map((f) => f.field), declared);
});

test("a table that differs from the C layout is reported", () => {
  const reported = readOptionsLayout(mod);
  const moved = {
    size: OPTIONS_LAYOUT.size,
    fields: OPTIONS_LAYOUT.fields.map((f) => (f.field === "dim" ? { ...f, offset: 16 } : f)),
  };
  assert.equal(optionsLayoutMismatch(reported, moved),
    "ggufembed_options is size 36, fields 0+4 4+4 8+4 12+4 16+4 20+4 24+4 28+4 32+4 in the module " +
    "but size 36, fields 0+4 4+4 8+4 16+4 16+4 20+4 24+4 28+4 32+4 in layout.js");
  assert.match(optionsLayoutMismatch(reported, { ...OPTIONS_LAYOUT, size: 40 }), /size 40/);
  assert.notEqual(optionsLayoutMismatch(reported, {
    size: 36, fields: OPTIONS_LAYOUT.fields.slice(0, 8) }), null);
  assert.notEqual(optionsLayoutMismatch({ size: 36, fields: [...reported.fields, { offset: 36, size: 4 }] }), null);
});

test("every field written at its offset is what the C side reads", () => {
  // ggufembed_options_init's defaults, read back at the table's offsets.
  const opts = mod._ggufembed_alloc(OPTIONS_LAYOUT.size) >>> 0;
  try {
    mod.HEAPU8.fill(0xAA, opts, opts + OPTIONS_LAYOUT.size);
    mod._ggufembed_options_init(opts);
    const read = Object.fromEntries(OPTIONS_LAYOUT.fields.map((f) =>
      [f.field, mod.HEAP32[(opts + f.offset) >>> 2]]));
    assert.deepEqual(read, { prompt: 0, title: 0, prompt_text: 0, dim: 0, normalize: 1,
                             truncate: 0, parse_special: 1, pooling: -1, threads: 1 });
  } finally {
    mod._ggufembed_free(opts);
  }
});
