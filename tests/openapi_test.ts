/**
 * Both OpenAPI documents (`GET /api/openapi.json`, `GET /v1/openapi.json`, DESIGN §12) are
 * valid OpenAPI 3 documents generated from the route tables, document exactly the routes the
 * apps register, and meet what the Redocly `recommended` rules ask (operationId, summary,
 * tags, security, servers, a 4xx per operation, absolute path keys, declared path values).
 * Redocly itself runs here too when its CLI is in Deno's cache (`deno task openapi:lint`
 * fetches it); the live replay of answers against the documents is `openapi_replay_test.ts`.
 * @module
 */
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { createBackend } from "../backend/mod.ts";
import { MemoryStore, Runtime } from "../runtime/mod.ts";
import { createRuntimeApp } from "../runtime/server.ts";
import { describeOperation } from "../backend/http/audit.ts";
import { BACKEND_ROUTES, fillPath, RUNTIME_ROUTES, templateOf } from "../shared/routes/mod.ts";
import { dumpDocuments, lintArgs, redoclyCommand } from "../tools/openapi_lint.ts";

const PORT = 8787;

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: string[];
  $ref?: string;
}
interface OpenApiDoc {
  openapi: string;
  servers?: { url: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, unknown> };
}

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/** `METHOD /path` of every route (not middleware) of a Hono app, in OpenAPI path syntax. */
function registered(app: { routes: { method: string; path: string }[] }, prefix: string) {
  const out = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL") continue; // middleware (guards, audit, body limit)
    if (!r.path.startsWith(`${prefix}/`)) continue; // pages and static assets are not the API
    out.add(`${r.method.toUpperCase()} ${templateOf(r.path)}`);
  }
  return out;
}

function documented(doc: OpenApiDoc): Set<string> {
  const out = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const m of Object.keys(ops)) if (METHODS.has(m)) out.add(`${m.toUpperCase()} ${path}`);
  }
  return out;
}

async function withApps<T>(
  fn: (apps: {
    backend: Awaited<ReturnType<typeof createBackend>>;
    runtime: ReturnType<typeof createRuntimeApp>;
    backendDoc: OpenApiDoc;
    runtimeDoc: OpenApiDoc;
  }) => Promise<T>,
) {
  const stateDir = await Deno.makeTempDir({ prefix: "yoi-openapi-" });
  const backend = await createBackend({ stateDir, port: PORT, embeddedStore: "memory" });
  const rt = await Runtime.open({ runtimeId: "doc", store: new MemoryStore() });
  const runtime = createRuntimeApp({ runtime: rt });
  try {
    // In-process there is no socket to set Host, so send the one a browser would.
    const res = await backend.app.request(`http://127.0.0.1:${PORT}/api/openapi.json`, {
      headers: { host: `127.0.0.1:${PORT}` },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const r2 = await runtime.request("http://127.0.0.1:8790/v1/openapi.json");
    assert.equal(r2.status, 200);
    assert.equal(r2.headers.get("yoi-runtime-id"), "doc");
    return await fn({
      backend,
      runtime,
      backendDoc: await res.json(),
      runtimeDoc: await r2.json(),
    });
  } finally {
    await rt.shutdown();
    await backend.close();
    await Deno.remove(stateDir, { recursive: true });
  }
}

Deno.test("openapi: both documents are valid OpenAPI 3 documents", async () => {
  await withApps(async ({ backendDoc, runtimeDoc }) => {
    for (const doc of [backendDoc, runtimeDoc]) {
      assert.match(doc.openapi, /^3\./);
      const validator = new Validator();
      const res = await validator.validate(
        structuredClone(doc) as unknown as Record<string, unknown>,
      );
      assert.equal(res.valid, true, `schema errors: ${JSON.stringify(res.errors, null, 2)}`);
    }
    // The validator does reject a broken document (so "valid" above means something).
    const broken = structuredClone(backendDoc) as unknown as Record<string, unknown>;
    delete broken.info;
    (broken.paths as Record<string, unknown>)["/api/x"] = { get: { responses: "nope" } };
    assert.equal((await new Validator().validate(broken)).valid, false);
  });
});

Deno.test("openapi: each document holds exactly the routes its app registers", async () => {
  await withApps(({ backend, runtime, backendDoc, runtimeDoc }) => {
    for (
      const [app, doc, prefix, table] of [
        [backend.app, backendDoc, "/api", BACKEND_ROUTES],
        [runtime, runtimeDoc, "/v1", RUNTIME_ROUTES],
      ] as const
    ) {
      const docd = documented(doc);
      const regd = registered(app, prefix);
      assert.equal(regd.size, Object.keys(table).length, `${prefix}: one route per table entry`);
      assert.deepEqual([...regd].filter((r) => !docd.has(r)), [], `${prefix}: undocumented`);
      assert.deepEqual([...docd].filter((d) => !regd.has(d)), [], `${prefix}: not registered`);
      // Self-check: a plain route added beside the table would show up as undocumented.
      const probe = { method: "GET", path: `${prefix}/x/:id/probe` };
      const withProbe = registered({ routes: [...app.routes, probe] }, prefix);
      assert.deepEqual([...withProbe].filter((r) => !docd.has(r)), [`GET ${prefix}/x/{id}/probe`]);
    }
    // The DESIGN §4 and §6 surface, spelled out, so a route that vanishes from both sides fails.
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
        "GET /api/openapi.json",
        "POST /api/settings/runtime-connections/{id}/test",
      ]
    ) assert.ok(documented(backendDoc).has(r), `${r} is documented`);
    for (
      const r of [
        "GET /v1/runtime",
        "GET /v1/workers",
        "POST /v1/workers",
        "PATCH /v1/workers/{worker_id}",
        "POST /v1/workers/{worker_id}/restore",
        "GET /v1/workers/{worker_id}/events",
        "GET /v1/openapi.json",
      ]
    ) assert.ok(documented(runtimeDoc).has(r), `${r} is documented`);
    return Promise.resolve();
  });
});

Deno.test("openapi: operationId, summary, tag, security, servers, 4xx and the error schema", async () => {
  await withApps(({ backendDoc, runtimeDoc }) => {
    for (const [doc, prefix] of [[backendDoc, "/api/"], [runtimeDoc, "/v1/"]] as const) {
      assert.ok((doc.servers ?? []).length > 0, "servers declared");
      for (const s of doc.servers ?? []) assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const tags = new Set((doc.tags ?? []).map((t) => t.name));
      const schemes = Object.keys(doc.components?.securitySchemes ?? {});
      assert.ok(schemes.length > 0, "security schemes declared");
      const ids = new Set<string>();
      for (const [path, ops] of Object.entries(doc.paths)) {
        assert.ok(path.startsWith(prefix), `${path} is absolute`);
        for (const [method, op] of Object.entries(ops)) {
          if (!METHODS.has(method)) continue;
          const where = `${method.toUpperCase()} ${path}`;
          assert.match(op.operationId ?? "", /^[a-z_]+\.[a-z_]+$/, `${where} operationId`);
          assert.ok(!ids.has(op.operationId!), `${where}: operationId unique`);
          ids.add(op.operationId!);
          assert.ok((op.summary ?? "").length > 0, `${where} summary`);
          assert.ok(op.tags?.length === 1 && tags.has(op.tags[0]), `${where} tag is declared`);
          assert.ok((op.security ?? []).length > 0, `${where} security`);
          for (const req of op.security ?? []) {
            for (const name of Object.keys(req)) assert.ok(schemes.includes(name), name);
          }
          const wanted = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
          const declared = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
          assert.deepEqual(declared.sort(), wanted, `${where} path params`);
          const statuses = Object.keys(op.responses);
          assert.ok(statuses.some((s) => s.startsWith("4")), `${where} has a 4xx`);
          assert.ok(statuses.includes("500"), `${where} documents internal_error`);
          for (const s of statuses.filter((s) => Number(s) >= 400)) {
            const schema = op.responses[s].content?.["application/json"]?.schema;
            const code = schema?.properties?.error?.properties?.code;
            assert.ok(code?.enum?.length, `${where} ${s}: the §5 error body with its codes`);
            assert.deepEqual(schema?.required?.sort(), ["diagnostics", "error"], where);
          }
        }
      }
    }
    // DESIGN §12's list of statuses the old document missed, now documented.
    const codesAt = (doc: OpenApiDoc, path: string, method: string, status: string) =>
      doc.paths[path][method].responses[status]?.content?.["application/json"].schema.properties
        ?.error.properties?.code.enum ?? [];
    const w = "/api/runtimes/{runtime_id}/workers/{worker_id}";
    assert.ok(
      codesAt(backendDoc, `${w}/input`, "post", "401").includes("remote_runtime_auth_failed"),
    );
    assert.ok(codesAt(backendDoc, `${w}/input`, "post", "403").includes("csrf_rejected"));
    assert.ok(codesAt(backendDoc, "/api/runtimes", "get", "403").includes("host_not_allowed"));
    assert.ok(codesAt(backendDoc, `${w}/input`, "post", "413").includes("body_too_large"));
    assert.ok(codesAt(backendDoc, `${w}/pause`, "post", "501").includes("unsupported_operation"));
    assert.ok(codesAt(backendDoc, `${w}/input`, "post", "507").includes("store_unavailable"));
    const c = "/api/settings/runtime-connections/{id}";
    assert.ok(codesAt(backendDoc, c, "delete", "400").includes("invalid_id"));
    assert.ok(codesAt(backendDoc, c, "delete", "409").includes("runtime_in_use"));
    const shape = "config_unsupported_shape";
    assert.ok(codesAt(backendDoc, c.replace("/{id}", ""), "post", "409").includes(shape));
    assert.ok(codesAt(backendDoc, c, "patch", "409").includes(shape));
    assert.ok(codesAt(runtimeDoc, "/v1/workers", "get", "401").includes("unauthorized"));
    return Promise.resolve();
  });
});

Deno.test("openapi: the audit log names a mutation by its operationId", () => {
  const values: Record<string, string> = {
    runtime_id: "box",
    worker_id: "0190a0c0-0000-7000-8000-000000000000",
    id: "box",
  };
  for (const [operationId, r] of Object.entries(BACKEND_ROUTES)) {
    if (r.method === "GET") continue;
    const entry = describeOperation(r.method, fillPath(r.path, values));
    assert.equal(entry.operation, operationId, `${r.method} ${r.path}`);
    if (r.path.includes("{runtime_id}") || r.path.includes("{id}")) {
      assert.equal(entry.runtime_id, "box");
    }
    if (r.path.includes("{worker_id}")) assert.equal(entry.worker_id, values.worker_id);
  }
  assert.equal(describeOperation("POST", "/api/nope").operation, "POST (unrouted)");
  // A literal segment beats a path value: this is the candidate test, not connection "test".
  assert.equal(
    describeOperation("POST", "/api/settings/runtime-connections/test").operation,
    "connection.test_candidate",
  );
});

/** Redocly CLI, when Deno already has it cached (no download inside the test suite). */
const redoclyCached = await (async () => {
  const { code } = await redoclyCommand(["--version"], true).output().catch(() => ({ code: 1 }));
  return code === 0;
})();

Deno.test({
  name: "openapi: Redocly `recommended` rules report no errors on either document",
  ignore: !redoclyCached,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "yoi-openapi-lint-" });
    try {
      const files = await dumpDocuments(dir);
      const out = await redoclyCommand(lintArgs(files), true).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, text);
      assert.doesNotMatch(text, /\d+ errors?\b/, text);
      // Redocly did read both (a lint of nothing would pass too).
      assert.equal(text.match(/validated in/g)?.length, 2, text);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("openapi: `servers` names the origin the document was fetched from", async () => {
  const rt = await Runtime.open({ runtimeId: "doc", store: new MemoryStore() });
  try {
    const runtime = createRuntimeApp({ runtime: rt });
    for (const origin of ["http://127.0.0.1:9123", "http://localhost:8790"]) {
      const doc = await (await runtime.request(`${origin}/v1/openapi.json`)).json();
      assert.deepEqual(doc.servers.map((s: { url: string }) => s.url), [origin]);
    }
  } finally {
    await rt.shutdown();
  }
});
