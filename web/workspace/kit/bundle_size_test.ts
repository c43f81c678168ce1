/**
 * The island kit end to end, through an in-process Backend: what JavaScript
 * the Runtime Connections page ships (and its gzip size, ≤ 20 KB), that
 * island markers carry their props as JSON, that pages without islands ship
 * no script, and that hashed assets are served as immutable.
 * @module
 */
import assert from "node:assert/strict";
import { createBackend } from "../../../backend/app.ts";
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
  const backend = await createBackend({ stateDir, port: 8787, embeddedStore: "memory" });
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
      const pending = referencedScripts(html);
      assert.ok(pending.length > 0, "the page uses islands, so it references scripts");
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
      console.log(
        `Runtime Connections page JavaScript: ${total} bytes gzip ` +
          `(${(total / 1024).toFixed(1)} KB, ${seen.size} files)`,
      );
      assert.ok([...seen].some((u) => u.includes("/connection_list-")), "the island is counted");
      assert.match(html, /Delete<span class="visually-hidden"> build-box/, "delete is rendered");
      assert.ok(total <= BUDGET, `${total} bytes gzip exceeds the ${BUDGET}-byte budget`);
    }, REMOTE_CONFIG);
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
      assert.deepEqual(props.map((p) => p.name), ["connection_list"], "one island on the page");
      const { initial, now } = props[0].props;
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
      assert.doesNotMatch(backendHtml, /<script/);
      assert.doesNotMatch(backendHtml, /modulepreload/);
      assert.doesNotMatch(backendHtml, /data-island/);

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
