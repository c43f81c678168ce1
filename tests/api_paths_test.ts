/**
 * DESIGN §12: API paths are spelled only in the route tables. Every product file (not a test,
 * not a benchmark or tool) is read without its comments; an `/api/...` or `/v1/...` path in a
 * string, template, regex or JSX text anywhere else fails, and each API is spelled in at most
 * three files.
 * @module
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { apiPathsIn, stripComments } from "./support/source_scan.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Where each API's paths may be spelled: its route table. */
const ALLOWED: Record<"api" | "v1", string[]> = {
  api: ["shared/routes/backend_paths.ts"],
  v1: ["shared/routes/runtime.ts"],
};

const SKIP_DIRS = new Set(["node_modules", ".git", ".yoi", "tests", "bench", "tools", "docs"]);

async function* productFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith(".tmp")) yield* productFiles(path);
    } else if (/\.(ts|tsx)$/.test(e.name) && !/_test\.tsx?$/.test(e.name)) {
      yield path;
    }
  }
}

Deno.test("API paths: spelled only in the route tables (at most three files per API)", async () => {
  const spelled: Record<"api" | "v1", Map<string, number[]>> = { api: new Map(), v1: new Map() };
  let files = 0;
  for await (const path of productFiles(ROOT.replace(/\/$/, ""))) {
    files++;
    const rel = relative(ROOT, path);
    for (const hit of apiPathsIn(await Deno.readTextFile(path))) {
      const lines = spelled[hit.api].get(rel) ?? [];
      spelled[hit.api].set(rel, [...lines, hit.line]);
    }
  }
  assert.ok(files > 100, `product files read: ${files}`);
  for (const api of ["api", "v1"] as const) {
    const outside = [...spelled[api]].filter(([f]) => !ALLOWED[api].includes(f))
      .map(([f, lines]) => `${f}:${lines.join(",")}`);
    assert.deepEqual(outside, [], `/${api}/ paths outside the route table: build them with it`);
    assert.ok(spelled[api].size >= 1 && spelled[api].size <= 3, `/${api} is in the table`);
  }
});

Deno.test("API paths: the scanner finds literals and ignores comments", () => {
  const found = (src: string) => apiPathsIn(src).map((h) => `${h.api}@${h.line}`);
  assert.deepEqual(found(`const a = "/api/runtimes";`), ["api@1"]);
  assert.deepEqual(found(`const a = '/v1/workers?x=1';`), ["v1@1"]);
  assert.deepEqual(found("const a = `${base}/v1/workers/${id}`;"), ["v1@1"]);
  assert.deepEqual(found(`if (p.startsWith("/api")) {}`), ["api@1"]);
  assert.deepEqual(found(`app.use("/api/*", x);`), ["api@1"]);
  assert.deepEqual(found(`const re = /^\\/v1\\/workers$/;`), ["v1@1"]);
  assert.deepEqual(found(`const m = "GET /v1/runtime answered";`), ["v1@1"]);
  assert.deepEqual(found(`x;\nconst el = <code>/api/live</code>;`), ["api@2"]);
  // Not API paths: comments, other URLs, look-alikes.
  assert.deepEqual(found(`// GET /api/runtimes\n/** POST /v1/workers */ const a = 1;`), []);
  assert.deepEqual(found(`const u = "http://127.0.0.1:11434/v1";`), []);
  assert.deepEqual(found(`const a = "/apis"; const b = "/v10"; const c = "x/api";`), []);
  assert.deepEqual(found(`const a = b / v1 / api;`), []);
  // A string that looks like a comment start is still code.
  assert.equal(stripComments(`const u = "http://x"; // note`), `const u = "http://x";        `);
});
