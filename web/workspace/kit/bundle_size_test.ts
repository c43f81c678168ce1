/**
 * The island kit end to end, through an in-process Backend: what JavaScript
 * the Runtime Connections and Workers pages ship (gzip, ≤ 20 KB each), that
 * island markers carry their props as JSON, that pages without an island of
 * their own ship only the small sidebar, and that hashed assets are served as immutable.
 * @module
 */
import assert from "node:assert/strict";
import { createWorkspace } from "../../../workspace.ts";
import { gzipSize } from "../../../tests/support/browser.ts";

const BUDGET = 20 * 1024;
const ORIGIN = "http://127.0.0.1:8787";
// Port 9 (discard): nothing answers; the page only reads the config file.
const REMOTE_CONFIG = `[[runtimes.remote]]
id = "build-box"
endpoint = "http://127.0.0.1:9"
`;

async function withBackend(
  fn: (get: (path: string) => Promise<Response>) => Promise<void>,
  config?: string,
) {
  const stateDir = await Deno.makeTempDir({ prefix: "yoi-kit-" });
  if (config) await Deno.writeTextFile(`${stateDir}/workspace-backend.local.toml`, config);
  const backend = await createWorkspace({ stateDir, port: 8787, embeddedStore: "memory" });
  try {
    await fn((path) =>
      Promise.resolve(
        backend.app.fetch(new Request(`${ORIGIN}${path}`, { headers: { host: "127.0.0.1:8787" } })),
      )
    );
  } finally {
    await backend.close();
    await Deno.remove(stateDir, { recursive: true });
  }
}

/** Script and modulepreload URLs a document references. */
function referencedScripts(html: string): string[] {
  const urls = new Set<string>();
  for (const m of html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)) urls.add(m[1]);
  for (const m of html.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"/g)) {
    urls.add(m[1]);
  }
  return [...urls];
}

/** Static imports of a (minified) ES module, resolved against its URL path. */
function staticImports(path: string, js: string): string[] {
  const out: string[] = [];
  for (const m of js.matchAll(/(?:\bfrom|\bimport)\s*["']([^"']+)["']/g)) {
    out.push(new URL(m[1], `${ORIGIN}${path}`).pathname);
  }
  return out;
}

/** Every script a page loads (entries and their static imports) and their gzip total. */
async function pageScripts(
  get: (path: string) => Promise<Response>,
  html: string,
): Promise<{ total: number; seen: Set<string> }> {
  const pending = referencedScripts(html);
  const seen = new Set<string>();
  let total = 0;
  while (pending.length) {
    const url = pending.pop()!;
    if (seen.has(url)) continue;
    seen.add(url);
    const res = await get(url);
    assert.equal(res.status, 200, url);
    const body = new Uint8Array(await res.arrayBuffer());
    total += await gzipSize(body);
    pending.push(...staticImports(url, new TextDecoder().decode(body)));
  }
  return { total, seen };
}

Deno.test({
  name: "the Runtime Connections page ships at most 20 KB of JavaScript (gzip)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withBackend(async (get) => {
      // The page's one island, with a deletable remote row in it.
      const page = await get("/settings/runtime-connections");
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.ok(referencedScripts(html).length > 0, "the page uses islands");
      const { total, seen } = await pageScripts(get, html);
      console.log(
        `Runtime Connections page JavaScript: ${total} bytes gzip ` +
          `(${(total / 1024).toFixed(1)} KB, ${seen.size} files)`,
      );
      assert.ok([...seen].some((u) => u.includes("/connection_list-")), "the island is counted");
      assert.ok([...seen].some((u) => u.includes("/live_sidebar-")), "the sidebar is counted");
      assert.match(html, /Delete<span class="visually-hidden"> build-box/, "delete is rendered");
      assert.ok(total <= BUDGET, `${total} bytes gzip exceeds the ${BUDGET}-byte budget`);
    }, REMOTE_CONFIG);
  },
});

Deno.test({
  name: "the Workers page (live list and sidebar) ships at most 20 KB of JavaScript (gzip)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withBackend(async (get) => {
      const page = await get("/workers");
      assert.equal(page.status, 200);
      const html = await page.text();
      const { total, seen } = await pageScripts(get, html);
      console.log(
        `Workers page JavaScript: ${total} bytes gzip ` +
          `(${(total / 1024).toFixed(1)} KB, ${seen.size} files)`,
      );
      assert.ok([...seen].some((u) => u.includes("/workers_list-")), "the list island is counted");
      assert.ok([...seen].some((u) => u.includes("/live_sidebar-")), "the sidebar is counted");
      assert.ok(total <= BUDGET, `${total} bytes gzip exceeds the ${BUDGET}-byte budget`);

      // A page with no island of its own ships only the sidebar (live list + copy buttons).
      const other = await pageScripts(get, await (await get("/settings/backend")).text());
      console.log(`Backend settings page JavaScript (sidebar only): ${other.total} bytes gzip`);
      assert.ok(other.total <= 12 * 1024, `${other.total} bytes: the sidebar is meant to be small`);
    });
  },
});

Deno.test({
  name: "island markers carry JSON props; only pages with islands get scripts; assets immutable",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withBackend(async (get) => {
      const html = await (await get("/settings/runtime-connections")).text();
      const markers = [...html.matchAll(/data-island="([^"]+)" data-props="([^"]*)"/g)];
      const decode = (s: string) =>
        s.replace(/&quot;/g, '"').replace(/&#(\d+);/g, (_, n) => String.fromCharCode(+n))
          .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
      const props = markers.map(([, name, json]) => ({ name, props: JSON.parse(decode(json)) }));
      assert.deepEqual(
        props.map((p) => p.name).sort(),
        ["connection_list", "live_sidebar"],
        "the page's island and the sidebar",
      );
      const { initial, now } = props.find((p) => p.name === "connection_list")!.props;
      assert.equal(typeof now, "number");
      assert.deepEqual(
        initial.connections.map((r: { id: string; state: string }) => [r.id, r.state]),
        [["embedded", "ready"]],
      );
      assert.equal(initial.config_ok, true);
      // The built-in runtime has no delete control.
      assert.doesNotMatch(html, />Delete</);
      assert.match(html, /<script type="module" src="\/_islands\/connection_list-[^"]+\.js">/);

      const backend = await get("/settings/backend");
      assert.equal(backend.status, 200);
      const backendHtml = await backend.text();
      // Only the sidebar island, which every page carries.
      assert.deepEqual(
        [...backendHtml.matchAll(/data-island="([^"]+)"/g)].map((m) => m[1]),
        ["live_sidebar"],
      );
      assert.doesNotMatch(backendHtml, /connection_list-/);

      const assets = [
        ...referencedScripts(html),
        /<link rel="stylesheet" href="([^"]+)"/.exec(html)![1],
      ];
      for (const url of assets) {
        assert.match(url, /[-.][A-Za-z0-9]{6,}\.(js|css)$/, `${url} is content-hashed`);
        const res = await get(url);
        await res.body?.cancel();
        assert.equal(res.status, 200, url);
        assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
      }
      const missing = await get("/_islands/nope-ABCDEF12.js");
      await missing.body?.cancel();
      assert.equal(missing.status, 404);
    });
  },
});
