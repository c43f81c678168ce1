/**
 * The tree reads as the architecture (README "Layout", LAYOUT.md): every import of a product
 * file points down. `runtime/` and `web/` see only `shared/` (and themselves), `backend/`
 * never sees `web/`, inside `backend/` the floors are `http/` → `registry/` → `settings/`, and a
 * folder is entered only through its `mod.ts`. Only the composition root at the top
 * (`main.ts`, `dev.ts`, `workspace.ts`) sees both the Backend and the pages.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));
const PRODUCT_DIRS = ["backend", "runtime", "shared", "web"];
const ROOT_FILES = ["main.ts", "dev.ts", "workspace.ts"];

/** Product source files (tests, test data and helpers of tests excluded), repo-relative. */
async function productFiles(): Promise<string[]> {
  const out: string[] = [...ROOT_FILES];
  async function walk(dir: string) {
    for await (const e of Deno.readDir(join(ROOT, dir))) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory) {
        if (e.name === "node_modules" || e.name === "testdata" || e.name.startsWith(".")) continue;
        await walk(rel);
      } else if (/\.(ts|tsx)$/.test(e.name) && !/_test\.tsx?$/.test(e.name)) {
        out.push(rel);
      }
    }
  }
  for (const d of PRODUCT_DIRS) await walk(d);
  return out;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^;"']*?from\s*["'](\.{1,2}\/[^"']+)["']|import\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/** Every relative import of `file`, resolved to a repo-relative path. */
async function importsOf(file: string): Promise<string[]> {
  const src = await Deno.readTextFile(join(ROOT, file));
  return [...src.matchAll(IMPORT)].map((m) =>
    relative(ROOT, normalize(join(ROOT, dirname(file), m[1] ?? m[2])))
  );
}

const top = (p: string) => p.split("/")[0];
const backendFloor = (p: string) => p.startsWith("backend/") ? p.split("/")[1] : undefined;
const FLOORS = ["http", "registry", "settings"];

/** Why `from` may not import `to`, or null when the import points down. */
export function layoutViolation(from: string, to: string): string | null {
  if (ROOT_FILES.includes(from)) {
    return to.startsWith("backend/") && to !== "backend/mod.ts"
      ? "the composition root enters backend/ through backend/mod.ts"
      : null;
  }
  const a = top(from), b = top(to);
  if (a === "shared" && b !== "shared") return "shared/ imports only shared/";
  if (a === "runtime" && b !== "runtime" && b !== "shared") {
    return "runtime/ imports runtime/ and shared/ only";
  }
  if (a === "web" && b !== "web" && b !== "shared") return "web/ imports web/ and shared/ only";
  if (a === "backend") {
    if (b === "web") return "backend/ never imports web/";
    if (b === "runtime" && to !== "runtime/mod.ts") {
      return "backend/ uses the Runtime library through runtime/mod.ts";
    }
    if (b !== "backend" && b !== "shared" && b !== "runtime") {
      return `backend/ may not import ${b}/`;
    }
    if (b === "backend") {
      const fa = backendFloor(from), fb = backendFloor(to);
      if (fa && fb && fa !== fb && FLOORS.includes(fa) && FLOORS.includes(fb)) {
        if (FLOORS.indexOf(fb) < FLOORS.indexOf(fa)) {
          return `backend/${fa} may not import backend/${fb} (upward)`;
        }
        if (!to.endsWith("/mod.ts")) return `backend/${fb}/ is entered through its mod.ts`;
      }
      if (from.split("/").length === 2 && fb && FLOORS.includes(fb) && !to.endsWith("/mod.ts")) {
        return `backend/${fb}/ is entered through its mod.ts`;
      }
    }
  }
  return null;
}

Deno.test("layout: every product import points down (backend ↛ web, runtime → shared only, floors)", async () => {
  const problems: string[] = [];
  for (const file of await productFiles()) {
    for (const target of await importsOf(file)) {
      const why = layoutViolation(file, target);
      if (why) problems.push(`${file} → ${target}: ${why}`);
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("layout: the rule itself refuses upward and sideways imports", () => {
  assert.match(
    layoutViolation("backend/http/app.ts", "web/workspace/mod.ts")!,
    /never imports web/,
  );
  assert.match(layoutViolation("backend/settings/config.ts", "backend/registry/mod.ts")!, /upward/);
  assert.match(layoutViolation("backend/registry/probe.ts", "backend/http/mod.ts")!, /upward/);
  assert.match(layoutViolation("backend/http/api.ts", "backend/registry/registry.ts")!, /mod\.ts/);
  assert.match(layoutViolation("runtime/server.ts", "backend/mod.ts")!, /runtime/);
  assert.match(layoutViolation("web/workspace/app.tsx", "backend/http/mod.ts")!, /web/);
  assert.match(layoutViolation("main.ts", "backend/http/app.ts")!, /backend\/mod\.ts/);
  assert.equal(layoutViolation("backend/http/api.ts", "backend/registry/mod.ts"), null);
  assert.equal(layoutViolation("workspace.ts", "web/workspace/mod.ts"), null);
});

Deno.test("layout: backend/ has a mod.ts per concern folder", async () => {
  for (const f of FLOORS) {
    const st = await Deno.stat(join(ROOT, "backend", f, "mod.ts"));
    assert.ok(st.isFile, `backend/${f}/mod.ts`);
  }
});

Deno.test("layout: no product file over 500 lines (small files named for what they hold)", async () => {
  const long: string[] = [];
  for (const file of await productFiles()) {
    const lines = (await Deno.readTextFile(join(ROOT, file))).split("\n").length - 1;
    if (lines > 500) long.push(`${file}: ${lines} lines`);
  }
  assert.deepEqual(long, []);
});
