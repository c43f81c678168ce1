/**
 * The config editor through the HTTP settings routes of a real Backend process (DESIGN §5, §7):
 * every shape the editor refuses answers 409 `config_unsupported_shape` in the one error shape,
 * with a diagnostic naming the file (relative) and the line, never a 500, and the file keeps its
 * bytes; a file with every date/time kind, a BOM, CRLF and int64 extremes takes add, edit and
 * delete, and add then delete gives it back byte for byte.
 * @module
 */
import assert from "node:assert/strict";
import { ConnectionListSchema, ErrorBodySchema } from "../shared/mod.ts";
import { BackendProcess } from "./support/backend_process.ts";
import { rawCall } from "./support/raw_call.ts";
import { UNSUPPORTED_SHAPES } from "./support/toml_shapes.ts";

const BASE = "/api/settings/runtime-connections";
const FILE = "workspace-backend.local.toml";

function assertShapeError(
  r: { status: number; body: unknown; text: string },
  line: number,
  what: string,
  stateDir: string,
): void {
  assert.equal(r.status, 409, `${what}: ${r.text}`);
  const parsed = ErrorBodySchema.safeParse(r.body);
  assert.ok(parsed.success, `${what}: not the DESIGN §5 error shape: ${r.text}`);
  const { error, diagnostics } = parsed.data;
  assert.equal(error.code, "config_unsupported_shape", `${what}: ${r.text}`);
  assert.match(error.message, new RegExp(`\\bline ${line}\\b`), what);
  assert.equal(diagnostics.length, 1, what);
  assert.equal(diagnostics[0].code, "config_unsupported_shape");
  assert.equal(diagnostics[0].line, line, what);
  assert.equal(diagnostics[0].file, FILE, what);
  assert.ok(!r.text.includes(stateDir), `${what}: no local path in the answer`);
}

Deno.test("HTTP: every refused config shape answers 409 config_unsupported_shape naming the line; the file keeps its bytes", async () => {
  await using bp = await BackendProcess.start();
  const path = `${bp.stateDir}/${FILE}`;
  for (const shape of UNSUPPORTED_SHAPES) {
    const bytes = new TextEncoder().encode(shape.text);
    await Deno.writeFile(path, bytes);
    const what = (op: string) => `${shape.name}: ${op}`;
    const add = await rawCall(bp, "POST", BASE, { id: "z", endpoint: "http://127.0.0.1:9" });
    assertShapeError(add, shape.line, what("add"), bp.stateDir);
    const del = await rawCall(bp, "DELETE", `${BASE}/a`);
    assertShapeError(del, shape.line, what("delete"), bp.stateDir);
    const edit = await rawCall(bp, "PATCH", `${BASE}/a`, { display_name: "A" });
    if (shape.listed) assertShapeError(edit, shape.line, what("edit"), bp.stateDir);
    else {
      // Not readable as a connection at all: there is nothing called "a" to edit.
      assert.equal(edit.status, 404, `${what("edit")}: ${edit.text}`);
      assert.equal(edit.body.error.code, "runtime_not_found");
    }
    const list = await rawCall(bp, "GET", BASE);
    assert.equal(list.status, 200, `${what("list")}: ${list.text}`);
    assert.ok(ConnectionListSchema.safeParse(list.body).success, what("list"));
    assert.deepEqual(await Deno.readFile(path), bytes, what("file bytes"));
  }
  const leftovers = [...Deno.readDirSync(bp.stateDir)].filter((e) => e.name.includes(".tmp-"));
  assert.deepEqual(leftovers, []);
});

Deno.test("HTTP: a file with all four date/time kinds, a BOM, CRLF and int64 extremes takes add, edit and delete", async () => {
  const text = [
    "\uFEFF# hand-written",
    "created = 1979-05-27T07:32:00-07:00",
    "[server]",
    'listen = "127.0.0.1:8787"',
    "since = 1979-05-27T07:32:00",
    "day = 1979-05-27",
    "at = 07:32:00.25",
    "max = 9223372036854775807",
    "min = -9223372036854775808",
    "",
    "[[runtimes.remote]]",
    'id = "a"',
    "endpoint = 'http://127.0.0.1:9'   # literal string",
    "seen = [1979-05-27, 07:32:00]",
    "",
  ].join("\r\n");
  await using bp = await BackendProcess.start({ config: text });
  const path = `${bp.stateDir}/${FILE}`;
  const before = await Deno.readFile(path);
  const add = await rawCall(bp, "POST", BASE, { id: "z", endpoint: "http://127.0.0.1:9" });
  assert.equal(add.status, 201, add.text);
  const afterAdd = new TextDecoder("utf-8", { ignoreBOM: true }).decode(await Deno.readFile(path));
  assert.equal(
    afterAdd,
    `${text}\r\n[[runtimes.remote]]\r\nid = "z"\r\nendpoint = "http://127.0.0.1:9"\r\n`,
  );
  const edit = await rawCall(bp, "PATCH", `${BASE}/a`, { display_name: "A" });
  assert.equal(edit.status, 200, edit.text);
  const del = await rawCall(bp, "DELETE", `${BASE}/z`);
  assert.equal(del.status, 200, del.text);
  const back = await rawCall(bp, "PATCH", `${BASE}/a`, { display_name: "" });
  assert.equal(back.status, 200, back.text);
  assert.deepEqual(await Deno.readFile(path), before, "add, edit, delete, undo: the same bytes");
  const list = await rawCall(bp, "GET", BASE);
  assert.equal(list.body.config_ok, true);
  assert.deepEqual(list.body.diagnostics, []);
});
