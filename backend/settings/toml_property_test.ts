/**
 * Property-based test of the config editor (fast-check, `tests/support/toml_doc_arbitrary.ts`): thousands of
 * generated valid TOML files — every value type, the four date/time kinds, inline tables,
 * arrays of tables, literal and multi-line strings, comments, a BOM, CRLF, int64 extremes —
 * around a `[[runtimes.remote]]` array get an add, an edit and a delete. Judged without the
 * editor's span finder: bytes outside the edited entry are identical (by the generator's own
 * offsets), add then delete restores the file byte for byte, the re-parse equals the intended
 * config, and python3's tomllib (a second parser) reads every result as the intended config.
 * The documented shapes are generated too, and must be refused with `config_unsupported_shape`
 * naming their line.
 * @module
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { parse } from "smol-toml";
import { ApiError } from "../../shared/mod.ts";
import { addConnection, canonicalToml, editConnection, removeConnection } from "./config_edit.ts";
import { configDoc, type GenDoc } from "../../tests/support/toml_doc_arbitrary.ts";
import { oneSplice } from "../../tests/support/toml_corpus.ts";
import type { RemoteFields } from "./toml_edit.ts";

/** Files per run with entries and without refused shapes, and with one refused shape. */
const RUNS = 1500;
const SHAPE_RUNS = 500;

type Table = Record<string, unknown>;
const canon = (text: string) => canonicalToml(parse(text, { integersAsBigInt: true })) as Table;
const remotes = (doc: Table): Table[] => {
  const rt = (doc.runtimes ??= Object.create(null)) as Table;
  return (rt.remote ??= []) as Table[];
};

/** One result for python3 to read and compare with the operation applied to the original. */
interface PyCase {
  text: string;
  orig: string;
  op: "add" | "edit" | "delete";
  index?: number;
  entry?: Record<string, string>;
  unset?: string[];
  keep_runtimes?: boolean;
}

const PY = `
import sys, json, math, tomllib
def norm(v):
    if isinstance(v, float) and math.isnan(v): return "<nan>"
    if isinstance(v, dict): return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list): return [norm(x) for x in v]
    return v
bad = []
for i, c in enumerate(json.load(sys.stdin)):
    try:
        got = norm(tomllib.loads(c["text"].lstrip("\\ufeff")))
        want = norm(tomllib.loads(c["orig"].lstrip("\\ufeff")))
        rt = want.setdefault("runtimes", {})
        lst = rt.setdefault("remote", [])
        if c["op"] == "add": lst.append(c["entry"])
        elif c["op"] == "edit":
            e = lst[c["index"]]
            e.update(c["entry"])
            for k in c["unset"]: e.pop(k, None)
        else: del lst[c["index"]]
        if not lst: del rt["remote"]
        if not rt and not c.get("keep_runtimes"): del want["runtimes"]
        if got != want: bad.append([i, "differs from the intended config"])
    except Exception as e:
        bad.append([i, repr(e)])
print(json.dumps(bad))
`;

/** Runs tomllib over every case at once (one process); returns the failures. */
async function pythonCheck(cases: PyCase[]): Promise<[number, string][]> {
  const child = new Deno.Command("python3", {
    args: ["-c", PY],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(cases)));
  await w.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const NAME_PIECES = ["A", " ", '"', "'", "\\", "é", "😀", "#", "[x]", "'''", '"""', "\u007f"];
const displayName = fc.array(fc.constantFrom(...NAME_PIECES), { minLength: 1, maxLength: 5 })
  .map((a) => a.join(""));
/** keep: leave as is; null: remove; a string: set. */
const change = (set: fc.Arbitrary<string>) =>
  fc.oneof(fc.constant("keep" as const), fc.constant(null), set);

const editArb = fc.record({
  pick: fc.nat(),
  endpoint: fc.constantFrom("keep", "http://127.0.0.1:9100/edited"),
  name: change(displayName),
  ref: change(fc.constantFrom("env:YOI_EDITED", "file:edited")),
  addName: fc.option(displayName),
});

type EditPlan = typeof editArb extends fc.Arbitrary<infer T> ? T : never;

/** Start of the line before `at` when it is blank, else `at`. */
function blankBefore(text: string, at: number): number {
  // A BOM belongs to no line.
  const start = Math.max(text.lastIndexOf("\n", at - 2) + 1, text.startsWith("\uFEFF") ? 1 : 0);
  return at > 0 && /^[ \t]*\r?\n$/.test(text.slice(start, at)) ? start : at;
}

function blankAfter(text: string, at: number): number {
  const nl = text.indexOf("\n", at);
  const end = nl === -1 ? text.length : nl + 1;
  return /^[ \t]*(\r?\n)?$/.test(text.slice(at, end)) ? end : at;
}

/** True when `after` keeps `before`'s bytes outside [lo, hi): same head, same tail. */
function keepsOutside(before: string, after: string, lo: number, hi: number): boolean {
  return after.length >= lo + before.length - hi && after.startsWith(before.slice(0, lo)) &&
    after.endsWith(before.slice(hi));
}

function runSupported(doc: GenDoc, ed: EditPlan, py: PyCase[]): void {
  const text = doc.text;
  const base = canon(text);
  // 1. add, then delete the same entry
  const x: RemoteFields = { id: "new-x", endpoint: "http://127.0.0.1:9999" };
  if (ed.addName) x.display_name = ed.addName;
  const added = addConnection(text, x);
  assert.ok(oneSplice(text, added), "add changed bytes outside the new entry");
  const want = canon(text);
  remotes(want).push(Object.assign(Object.create(null), x));
  assert.ok(isDeepStrictEqual(canon(added), want), "add: re-parse differs from the intended");
  assert.equal(removeConnection(added, x.id), text, "add then delete restores the file");
  py.push({ text: added, orig: text, op: "add", entry: { ...x } });
  if (doc.entries.length === 0) return;

  // 2. edit one entry: only its block may change
  const k = ed.pick % doc.entries.length;
  const block = doc.entries[k];
  const saved = remotes(canon(text))[k];
  const fields: RemoteFields = {
    id: block.id,
    endpoint: ed.endpoint === "keep" ? saved.endpoint as string : ed.endpoint,
  };
  const set = (key: "display_name" | "token_ref", c: string | null) => {
    const v = c === "keep" ? saved[key] as string | undefined : c ?? undefined;
    if (v !== undefined) fields[key] = v;
  };
  set("display_name", ed.name);
  set("token_ref", ed.ref);
  const edited = editConnection(text, fields);
  assert.ok(keepsOutside(text, edited, block.start, block.end), "edit reached outside the entry");
  const wantEdit = canon(text);
  const e = remotes(wantEdit)[k];
  const unset: string[] = [];
  for (const key of ["endpoint", "display_name", "token_ref"] as const) {
    if (fields[key] === undefined) {
      delete e[key];
      unset.push(key);
    } else e[key] = fields[key];
  }
  assert.ok(isDeepStrictEqual(canon(edited), wantEdit), "edit: re-parse differs");
  const { id: _, ...entry } = fields;
  py.push({ text: edited, orig: text, op: "edit", index: k, entry, unset });

  // 3. delete it: its block, at most one blank line beside it, and (when it ended the file
  // without a line break) the line break before it
  const removed = removeConnection(text, block.id);
  const eof = block.end === text.length && !text.endsWith("\n") ? 2 : 0;
  const lo = Math.max(blankBefore(text, block.start) - eof, 0);
  assert.ok(keepsOutside(text, removed, lo, blankAfter(text, block.end)), "delete reached outside");
  const wantDel = canon(text);
  const rt = wantDel.runtimes as Table;
  (rt.remote as unknown[]).splice(k, 1);
  if ((rt.remote as unknown[]).length === 0) delete rt.remote;
  if (Object.keys(rt).length === 0 && !doc.runtimesHeader) delete wantDel.runtimes;
  assert.ok(isDeepStrictEqual(canon(removed), wantDel), "delete: re-parse differs");
  py.push({
    text: removed,
    orig: text,
    op: "delete",
    index: k,
    keep_runtimes: doc.runtimesHeader,
  });
  assert.ok(base, "the original parses");
}

Deno.test(`property: ${RUNS} generated TOML files take add, edit and delete with every other byte kept; tomllib agrees`, async () => {
  const py: PyCase[] = [];
  let withEntries = 0;
  fc.assert(
    fc.property(configDoc({ shape: false }), editArb, (doc, ed) => {
      if (doc.entries.length) withEntries++;
      runSupported(doc, ed, py);
    }),
    { numRuns: RUNS },
  );
  assert.ok(withEntries > RUNS / 2, `most files have entries (${withEntries})`);
  const t = performance.now();
  const bad = await pythonCheck(py);
  console.log(`  tomllib read ${py.length} results in ${(performance.now() - t).toFixed(0)} ms`);
  assert.deepEqual(
    bad.slice(0, 3).map(([i, why]) => ({ why, case: py[i] })),
    [],
    `${bad.length} of ${py.length} results`,
  );
});

Deno.test(`property: ${SHAPE_RUNS} generated files with a documented unsupported shape are refused, naming the line`, () => {
  const names = new Set<string>();
  fc.assert(
    fc.property(configDoc({ shape: true }), (doc) => {
      names.add(doc.shapeName!);
      const refused = (e: unknown) => {
        assert.ok(e instanceof ApiError, String(e));
        assert.equal(e.code, "config_unsupported_shape", `${doc.shapeName}: ${e.message}`);
        assert.equal(e.diagnostics[0].line, doc.shapeLine, `${doc.shapeName}: ${e.message}`);
        assert.match(e.message, new RegExp(`line ${doc.shapeLine}\\b`));
        return true;
      };
      const id = doc.entries[0]?.id ?? "s";
      assert.throws(
        () => addConnection(doc.text, { id: "new-x", endpoint: "http://h:1" }),
        refused,
      );
      assert.throws(() => editConnection(doc.text, { id, endpoint: "http://h:2" }), refused);
      assert.throws(() => removeConnection(doc.text, id), refused);
    }),
    { numRuns: SHAPE_RUNS },
  );
  assert.equal(names.size, 8, `every shape was generated: ${[...names].join(", ")}`);
});
