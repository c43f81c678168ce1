/**
 * `GET /api/openapi.json` (DESIGN §6) is a valid OpenAPI 3 document and
 * documents every `/api` route the Backend's Hono app actually registers, so
 * a route added without its schema declaration fails here.
 * @module
 */
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { createBackend } from "../backend/mod.ts";

const PORT = 8787;

/** Registered routes that are deliberately not in the document. */
const UNDOCUMENTED = new Set([
  "GET /api/openapi.json", // the document itself
]);

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
}

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/** `METHOD /path` of every non-middleware `/api` route of a Hono app, in OpenAPI path syntax. */
function registeredApiRoutes(app: { routes: { method: string; path: string }[] }): Set<string> {
  const out = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL") continue; // middleware (guards, audit, body limit)
    if (!r.path.startsWith("/api/")) continue; // pages and static assets are not the API
    // Hono's `:param` (optionally with a `{regex}`) is OpenAPI's `{param}`.
    const path = r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");
    out.add(`${r.method.toUpperCase()} ${path}`);
  }
  return out;
}

async function withBackend<T>(fn: (b: Awaited<ReturnType<typeof createBackend>>) => Promise<T>) {
  const stateDir = await Deno.makeTempDir({ prefix: "yoi-openapi-" });
  const backend = await createBackend({ stateDir, port: PORT, embeddedStore: "memory" });
  try {
    return await fn(backend);
  } finally {
    await backend.close();
    await Deno.remove(stateDir, { recursive: true });
  }
}

async function fetchDoc(backend: Awaited<ReturnType<typeof createBackend>>): Promise<OpenApiDoc> {
  // In-process there is no socket to set Host, so send the one a browser would.
  const res = await backend.app.request(`http://127.0.0.1:${PORT}/api/openapi.json`, {
    headers: { host: `127.0.0.1:${PORT}` },
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return await res.json();
}

Deno.test("openapi: /api/openapi.json is a valid OpenAPI 3 document", async () => {
  await withBackend(async (backend) => {
    const doc = await fetchDoc(backend);
    assert.match(doc.openapi, /^3\./);
    const validator = new Validator();
    const spec = structuredClone(doc) as unknown as Record<string, unknown>;
    const res = await validator.validate(spec);
    assert.equal(res.valid, true, `schema errors: ${JSON.stringify(res.errors, null, 2)}`);
    assert.match(String(validator.version), /^3\./);

    // The validator does reject a broken document (so "valid" above means something).
    const broken = structuredClone(spec);
    delete broken.info;
    (broken.paths as Record<string, unknown>)["/api/x"] = { get: { responses: "nope" } };
    assert.equal((await new Validator().validate(broken)).valid, false);

    // Beyond the JSON schema: every `{param}` of a path is declared as a path parameter.
    for (const [path, ops] of Object.entries(doc.paths)) {
      const wanted = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      for (const [method, op] of Object.entries(ops)) {
        if (!METHODS.has(method)) continue;
        const declared = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
        assert.deepEqual(declared.sort(), wanted, `${method.toUpperCase()} ${path} path params`);
      }
    }
  });
});

Deno.test("openapi: documents exactly the /api routes the app registers", async () => {
  await withBackend(async (backend) => {
    const doc = await fetchDoc(backend);
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        if (METHODS.has(method)) documented.add(`${method.toUpperCase()} ${path}`);
      }
    }

    const registered = registeredApiRoutes(backend.app);
    assert.ok(registered.size >= 13, `routes found: ${[...registered].join(", ")}`);

    const missing = [...registered].filter((r) => !documented.has(r) && !UNDOCUMENTED.has(r));
    assert.deepEqual(missing, [], "every registered /api route is in the OpenAPI document");
    const phantom = [...documented].filter((d) => !registered.has(d));
    assert.deepEqual(phantom, [], "every documented route is registered");

    // The DESIGN §6 surface, spelled out, so a route that vanishes from both sides fails too.
    const w = "/api/runtimes/{runtime_id}/workers/{worker_id}";
    for (
      const r of [
        "GET /api/runtimes",
        "GET /api/runtimes/{runtime_id}",
        "GET /api/workers",
        "GET /api/hosts",
        "GET /api/runtimes/{runtime_id}/workers",
        "POST /api/runtimes/{runtime_id}/workers",
        `GET ${w}`,
        `POST ${w}/input`,
        `POST ${w}/stop`,
        `POST ${w}/cancel`,
        `GET ${w}/transcript`,
        `GET ${w}/events`,
      ]
    ) assert.ok(documented.has(r), `${r} is documented`);

    // Self-check: a plain (schema-less) route would show up as missing.
    const probe = { method: "GET", path: "/api/runtimes/:runtime_id/probe", handler: () => {} };
    const withProbe = registeredApiRoutes({ routes: [...backend.app.routes, probe] });
    assert.deepEqual(
      [...withProbe].filter((r) => !documented.has(r) && !UNDOCUMENTED.has(r)),
      ["GET /api/runtimes/{runtime_id}/probe"],
    );
  });
});
