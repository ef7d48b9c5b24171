// The memory layout of the C struct `ggufembed_options` (include/ggufembed/ggufembed_c.h) in
// wasm32, the one table engine.js writes the struct by. The C side reports the real layout
// (`ggufembed_options_layout`); module.js compares the two when a module is instantiated and the
// tests compare them too, so a change to the struct that is not made here fails loudly instead
// of writing options into the wrong fields.

/**
 * `size` is sizeof(ggufembed_options). Each field: the `ggufembed_embed` option it carries, the C
 * field, its byte offset and size, and how the option's value is written:
 * "string" a pointer to a NUL-terminated UTF-8 copy (NULL when absent), "int" an int32,
 * "bool" an int32 0/1, "pooling" an int32 GGUFEMBED_POOLING_* value.
 * The fields are in the C declaration order, the order `ggufembed_options_layout` reports them.
 */
export const OPTIONS_LAYOUT = Object.freeze({
  size: 36,
  fields: Object.freeze([
    Object.freeze({ option: "prompt", field: "prompt", offset: 0, size: 4, kind: "string" }),
    Object.freeze({ option: "title", field: "title", offset: 4, size: 4, kind: "string" }),
    Object.freeze({ option: "promptText", field: "prompt_text", offset: 8, size: 4, kind: "string" }),
    Object.freeze({ option: "dim", field: "dim", offset: 12, size: 4, kind: "int" }),
    Object.freeze({ option: "normalize", field: "normalize", offset: 16, size: 4, kind: "bool" }),
    Object.freeze({ option: "truncate", field: "truncate", offset: 20, size: 4, kind: "bool" }),
    Object.freeze({ option: "parseSpecial", field: "parse_special", offset: 24, size: 4, kind: "bool" }),
    Object.freeze({ option: "pooling", field: "pooling", offset: 28, size: 4, kind: "pooling" }),
    Object.freeze({ option: "threads", field: "threads", offset: 32, size: 4, kind: "int" }),
  ]),
});

/** The layout the module's C code was compiled with: {size, fields: [{offset, size}]}. */
export function readOptionsLayout(mod) {
  const n = mod._ggufembed_options_layout(0, 0);
  const out = mod._ggufembed_alloc(4 * n) >>> 0;
  if (out === 0) throw new Error("cannot allocate the options layout");
  try {
    mod._ggufembed_options_layout(out, n);
    const v = Array.from(mod.HEAP32.subarray(out >>> 2, (out >>> 2) + n));
    const fields = [];
    for (let i = 1; i + 1 < n; i += 2) fields.push({ offset: v[i], size: v[i + 1] });
    return { size: v[0], fields };
  } finally {
    mod._ggufembed_free(out);
  }
}

/** null when `table` matches `reported` (from readOptionsLayout), else what differs. */
export function optionsLayoutMismatch(reported, table = OPTIONS_LAYOUT) {
  const describe = (l) => `size ${l.size}, fields ${l.fields.map((f) => `${f.offset}+${f.size}`).join(" ")}`;
  const same = reported.size === table.size && reported.fields.length === table.fields.length &&
    reported.fields.every((f, i) => f.offset === table.fields[i].offset && f.size === table.fields[i].size);
  return same ? null
    : `ggufembed_options is ${describe(reported)} in the module but ${describe(table)} in layout.js`;
}
