/**
 * Test support: a fast-check generator of valid TOML 1.0 config files around a
 * `[[runtimes.remote]]` array — every value type (strings of all four kinds, integers in every
 * base and the int64 extremes, floats with inf/nan/-0, booleans, the four date/time kinds,
 * arrays, inline tables), arrays of tables, dotted keys, quoted header keys with `]`, `=` and
 * `#` in them, comments and blank lines everywhere, a BOM, CRLF, a missing final newline — and
 * the documented shapes the editor refuses. Each document knows where its entries and its
 * refused shape are, so a test can judge edits without the editor's own span finder.
 * @module
 */
import fc from "fast-check";

/** A generated file and what the judge needs to know about it. */
export interface GenDoc {
  text: string;
  /** Offsets of each entry's block (header to last line, comments inside it included). */
  entries: { id: string; start: number; end: number }[];
  /** A `[runtimes]` header is in the file (it keeps `runtimes` once the last entry is gone). */
  runtimesHeader: boolean;
  /** The 1-based line of the refused shape, when the file has one. */
  shapeLine: number | null;
  shapeName: string | null;
}

// ---- values ----

const PIECES = [
  "a",
  "Z9",
  " ",
  "#",
  "[",
  "]",
  "=",
  ".",
  ",",
  "{",
  "}",
  "é",
  "😀",
  "\t",
  "[[runtimes.remote]]",
  'id = "ghost"',
];
const text = (extra: string[] = []) =>
  fc.array(fc.constantFrom(...PIECES, ...extra), { maxLength: 6 }).map((a) => a.join(""));

const basicEscape = (s: string, escapeUnicode: boolean) =>
  [...s].map((ch) => {
    if (ch === "\\") return "\\\\";
    if (ch === '"') return '\\"';
    if (ch === "\n") return "\\n";
    if (escapeUnicode && ch.codePointAt(0)! > 0xffff) {
      return `\\U${ch.codePointAt(0)!.toString(16).padStart(8, "0")}`;
    }
    if (escapeUnicode && ch.codePointAt(0)! > 0x7f) {
      return `\\u${ch.codePointAt(0)!.toString(16).padStart(4, "0").toUpperCase()}`;
    }
    return ch;
  }).join("");

/** A string value in one of the four TOML string kinds. */
const stringValue: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(text(['"', "\\", "'"]), fc.boolean()).map(([s, u]) => `"${basicEscape(s, u)}"`),
  text().map((s) => `'${s}'`),
  fc.tuple(text(['"', "\\", "RAW_NL", "LINE_CONT"]), fc.boolean()).map(([s, first]) =>
    `"""${first ? "\n" : ""}${
      basicEscape(s, false).replaceAll("RAW_NL", "\n").replaceAll("LINE_CONT", "\\\n  ")
    }"""`
  ),
  fc.tuple(text(["\n", '"']), fc.boolean()).map(([s, first]) => `'''${first ? "\n" : ""}${s}'''`),
);

const integerValue = fc.constantFrom(
  "0",
  "+17",
  "-42",
  "1_000_000",
  "0xDEAD_beef",
  "0o755",
  "0b1101",
  "9223372036854775807",
  "-9223372036854775808",
  "0x7FFFFFFFFFFFFFFF",
);
const floatValue = fc.constantFrom(
  "3.1415",
  "-0.0",
  "+0.0",
  "5e+22",
  "6.626e-34",
  "1_000.5",
  "inf",
  "-inf",
  "+nan",
  "nan",
);
const dateValue = fc.constantFrom(
  "1979-05-27T07:32:00Z",
  "1979-05-27T00:32:00.999999-07:00",
  "1979-05-27 07:32:00+09:30",
  "1979-05-27t07:32:00z",
  "1979-05-27T07:32:00",
  "1979-05-27T00:32:00.5",
  "1979-05-27",
  "2000-02-29",
  "07:32:00",
  "00:32:00.999999",
);
const scalar = fc.oneof(
  stringValue,
  integerValue,
  floatValue,
  fc.constantFrom("true", "false"),
  dateValue,
);

/** Any TOML value; arrays and inline tables nest up to `depth`. */
function value(depth: number): fc.Arbitrary<string> {
  if (depth === 0) return scalar;
  const inner = value(depth - 1);
  return fc.oneof(
    { weight: 4, arbitrary: scalar },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.array(inner, { maxLength: 3 }), fc.boolean(), fc.boolean()).map(
        ([items, multi, trailing]) =>
          multi
            ? `[ # open\n${items.map((v) => `  ${v}, # item\n`).join("")}]`
            : `[${items.join(", ")}${trailing && items.length ? "," : ""}]`,
      ),
    },
    {
      weight: 1,
      arbitrary: fc.array(inner, { maxLength: 3 }).map((vs) =>
        `{ ${vs.map((v, i) => (i === 1 ? `d${i}.x = ${v}` : `i${i} = ${v}`)).join(", ")} }`
      ),
    },
  );
}

// ---- lines ----

const comment = text(['"', "'"]).map((s) => `# ${s}`);
const blank = fc.constantFrom("", "  ", "\t");
const filler = fc.array(fc.oneof(comment, blank), { maxLength: 2 });

/** A key as written: bare, or quoted so that it decodes to the same unique name. */
const keyAs = (name: string) => fc.constantFrom(name, `"${name}"`, `'${name}'`, `  ${name}`);

/** Key/value lines with unique names (`prefix` + index), comments among them. */
function keyLines(prefix: string, max: number, depth = 2): fc.Arbitrary<string[]> {
  return fc.array(fc.tuple(value(depth), fc.boolean(), filler, fc.nat()), { maxLength: max })
    .chain((kvs) =>
      fc.tuple(...kvs.map((_, i) => keyAs(`${prefix}${i}`))).map((keys) =>
        kvs.flatMap(([v, trailing, fill, dotted], i) => [
          ...fill,
          `${dotted % 5 === 0 ? `${prefix}dot${i}.${keys[i].trim()}` : keys[i]} = ${v}${
            trailing ? "   # trailing" : ""
          }`,
        ])
      )
    );
}

// ---- sections ----

interface Chunk {
  lines: string[];
  entry?: string;
  shape?: { name: string; line: number };
}

const REMOTE_HEADERS = [
  "[[runtimes.remote]]",
  "[[ runtimes.remote ]]",
  "[[runtimes . remote]]",
  '[["runtimes".remote]]',
  "[[runtimes.'remote']]   # a remote",
];

function entryChunk(id: string): fc.Arbitrary<Chunk> {
  const str = (s: string) => fc.constantFrom(`"${s}"`, `'${s}'`, `'''${s}'''`, `"""\n${s}"""`);
  return fc.record({
    header: fc.constantFrom(...REMOTE_HEADERS),
    id: fc.constantFrom(`"${id}"`, `'${id}'`),
    endpoint: str(`http://127.0.0.1:${9000 + Number(id.slice(1))}`),
    name: fc.option(str(`Runtime ${id}`)),
    ref: fc.option(fc.constantFrom(`"env:YOI_${id.toUpperCase()}"`, `'file:${id}'`)),
    extra: keyLines("k", 3),
    fill: filler,
    sub: fc.option(keyLines("s", 2, 1)),
    subKind: fc.constantFrom("[runtimes.remote.meta]", "[[runtimes.remote.hist]]"),
    tail: filler,
  }).map((r) => {
    const keys = [`id = ${r.id}`, `endpoint = ${r.endpoint}`];
    if (r.name) keys.push(`display_name = ${r.name}`);
    if (r.ref) keys.push(`token_ref = ${r.ref}`);
    const lines = [r.header, ...r.fill, ...keys, ...r.extra];
    if (r.sub) lines.push(r.subKind, ...r.sub);
    return { lines: [...lines, ...r.tail], entry: id };
  });
}

const tableChunk = (n: number): fc.Arbitrary<Chunk> =>
  fc.tuple(
    fc.constantFrom(`[t${n}]`, `[ t${n} ]`, `["t${n}"]`, `[w${n}."we]ird=#"]`, `[w${n}.'x y'.z]`),
    keyLines("k", 3),
    filler,
  ).map(([h, kv, f]) => ({ lines: [...f, h, ...kv] }));

const arrayChunk = (n: number): fc.Arbitrary<Chunk> =>
  fc.array(keyLines("k", 2), { minLength: 1, maxLength: 3 }).map((items) => ({
    lines: items.flatMap((kv) => [`[[arr${n}]]`, ...kv]),
  }));

/** The documented refused shapes; `at` is the line (0-based in the chunk) the refusal names. */
const SHAPES: { name: string; lines: string[]; at: number; needsEntries?: boolean }[] = [
  { name: "single table", lines: ["[runtimes.remote]", 'id = "s"'], at: 0 },
  { name: "implicit table", lines: ["[runtimes.remote.extra]", "k = 1"], at: 0 },
  {
    name: "inline array under [runtimes]",
    lines: ["[runtimes]", "remote = [", '  { id = "s", endpoint = "http://h:1" },', "]"],
    at: 1,
  },
  { name: "dotted keys under [runtimes]", lines: ["[runtimes]", 'remote.id = "s"'], at: 1 },
  {
    name: "separated sub-table",
    lines: ["[elsewhere]", "k = 1", "[runtimes.remote.late]", "k = 2"],
    at: 2,
    needsEntries: true,
  },
];
const TOP_SHAPES: { name: string; line: string }[] = [
  {
    name: "dotted inline array",
    line: 'runtimes.remote = [{ id = "s", endpoint = "http://h:1" }]',
  },
  { name: "runtimes as a value", line: 'runtimes = { remote = [{ id = "s" }] }' },
  { name: "runtimes as a string", line: 'runtimes = "none"' },
];

/** Valid config files, with or without one refused shape. */
export function configDoc(opts: { shape: boolean }): fc.Arbitrary<GenDoc> {
  return fc.record({
    top: keyLines("top", 3),
    topFill: filler,
    entryCount: fc.integer({ min: 0, max: 4 }),
    tables: fc.integer({ min: 0, max: 3 }),
    arrays: fc.integer({ min: 0, max: 2 }),
    runtimes: fc.constantFrom("none", "header", "dotted", "other"),
    shape: fc.nat({ max: SHAPES.length + TOP_SHAPES.length - 1 }),
    order: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
    bom: fc.boolean(),
    crlf: fc.boolean(),
    finalNewline: fc.nat({ max: 3 }),
  }).chain((d) => {
    const shape = opts.shape ? d.shape : -1;
    const top = shape >= SHAPES.length ? TOP_SHAPES[shape - SHAPES.length] : null;
    const mid = shape >= 0 && shape < SHAPES.length ? SHAPES[shape] : null;
    // A refused shape excludes entries, except the separated sub-table, which needs one.
    const entries = !opts.shape ? d.entryCount : mid?.needsEntries ? Math.max(d.entryCount, 1) : 0;
    const runtimes = opts.shape ? "none" : d.runtimes;
    return fc.tuple(
      fc.tuple(...Array.from({ length: entries }, (_, i) => entryChunk(`e${i}`))),
      fc.tuple(...Array.from({ length: d.tables }, (_, i) => tableChunk(i))),
      fc.tuple(...Array.from({ length: d.arrays }, (_, i) => arrayChunk(i))),
      keyLines("r", 2),
    ).map(([ents, tables, arrays, rkeys]) => {
      const head: string[] = [...d.topFill, ...d.top];
      if (runtimes === "dotted") head.push('runtimes.note = "dotted"');
      let shapeAt: number | null = null;
      if (top) {
        shapeAt = head.reduce((n, l) => n + l.split("\n").length, 0);
        head.push(top.line);
      }
      const body: Chunk[] = [...tables, ...arrays];
      if (runtimes === "header") body.push({ lines: ["[runtimes]", ...rkeys] });
      if (runtimes === "other") body.push({ lines: ["[runtimes.other]", ...rkeys] });
      // Entries keep their order; other sections go between them at random places.
      const chunks: Chunk[] = [...ents];
      body.forEach((c, i) => chunks.splice(d.order[i] % (chunks.length + 1), 0, c));
      if (mid) {
        const at = mid.needsEntries ? chunks.length : d.order[11] % (chunks.length + 1);
        chunks.splice(at, 0, { lines: mid.lines, shape: { name: mid.name, line: mid.at } });
      }
      return assemble(head, chunks, d, top ? { name: top.name, line: shapeAt! } : null);
    });
  });
}

function assemble(
  head: string[],
  chunks: Chunk[],
  d: { bom: boolean; crlf: boolean; finalNewline: number },
  topShape: { name: string; line: number } | null,
): GenDoc {
  const nl = d.crlf ? "\r\n" : "\n";
  const conv = (s: string) => (d.crlf ? s.replaceAll("\n", "\r\n") : s);
  let out = d.bom ? "\uFEFF" : "";
  let line = 0; // lines written so far
  const doc: GenDoc = {
    text: "",
    entries: [],
    runtimesHeader: chunks.some((c) => c.lines[0] === "[runtimes]"),
    shapeLine: topShape ? topShape.line + 1 : null,
    shapeName: topShape?.name ?? null,
  };
  const write = (lines: string[]) => {
    for (const l of lines) {
      out += conv(l) + nl;
      line += conv(l).split(nl).length;
    }
  };
  write(head);
  for (const c of chunks) {
    write([""]);
    const start = out.length;
    if (c.shape) {
      // Shape chunks are one physical line per element.
      doc.shapeLine = line + 1 + c.shape.line;
      doc.shapeName = c.shape.name;
    }
    write(c.lines);
    if (c.entry) doc.entries.push({ id: c.entry, start, end: out.length });
  }
  // A quarter of the files end without a line break.
  if (d.finalNewline === 0 && out.endsWith(nl)) {
    out = out.slice(0, -nl.length);
    for (const e of doc.entries) e.end = Math.min(e.end, out.length);
  }
  doc.text = out;
  return doc;
}
