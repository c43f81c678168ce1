/**
 * How the live Runtime Connections list talks to the Backend, pinned against
 * a scripted API in a real browser (the Web app mounted on a stub `api`), so
 * the polling contract is checked exactly: the first poll has no
 * `If-None-Match`, later ones send the last `ETag` and a 304 changes nothing;
 * a change is on screen within 5 s and announced once; polling stops while
 * the tab is hidden and catches up at once when shown; the restart notice
 * appears only for `[server]` keys and names them.
 * @module
 */
import assert from "node:assert/strict";
import { createWebApp } from "../../web/workspace/app.tsx";
import { POLL_MS } from "../../web/workspace/islands/connection_list.tsx";
import { browserTest, launchBrowser } from "../support/browser.ts";
import { sleep, waitUntil } from "../support/wait.ts";

const iso = (agoMs: number) => new Date(Date.now() - agoMs).toISOString();

function remoteRow(state: string) {
  return {
    id: "build-box",
    kind: "remote",
    display_name: "Build box",
    endpoint: "http://127.0.0.1:9",
    token_ref: null,
    built_in: false,
    deletable: true,
    persisted: true,
    active: true,
    restart_required: false,
    diagnostics: [],
    state,
    last_checked_at: iso(12_000),
    last_ok_at: iso(12_000),
    latency_ms: 3,
    worker_count: 0,
    health_history: [],
  };
}

/** A scripted settings API: a versioned list with ETag/304, and a log of list requests. */
function scriptedApi() {
  const s = {
    version: 1,
    state: "ready",
    restartKeys: [] as string[],
    polls: [] as { inm: string | null; status: number }[],
  };
  const api = (req: Request): Response => {
    const path = new URL(req.url).pathname;
    if (path !== "/api/settings/runtime-connections") {
      return Response.json({ error: { code: "not_found", message: "no" }, diagnostics: [] }, {
        status: 404,
      });
    }
    const tag = `"v${s.version}"`;
    const inm = req.headers.get("if-none-match");
    const status = inm === tag ? 304 : 200;
    // SSR reads the list too (marked x-ssr); only the browser's polls are logged.
    if (req.headers.get("accept") === "application/json" && !req.headers.has("x-ssr")) {
      s.polls.push({ inm, status });
    }
    if (status === 304) return new Response(null, { status, headers: { etag: tag } });
    return Response.json({
      connections: [remoteRow(s.state)],
      config_ok: true,
      restart_required: s.restartKeys.length > 0,
      restart_required_keys: s.restartKeys,
      diagnostics: [],
    }, { headers: { etag: tag } });
  };
  return { s, api };
}

browserTest(
  "live list: conditional polling, changes within 5 s announced once, paused while hidden",
  async () => {
    const { s, api } = scriptedApi();
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      const url = new URL(req.url);
      if (url.pathname.startsWith("/api/")) return api(req);
      return web.app.fetch(req);
    });
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const web = createWebApp({
      api: (req) => {
        req.headers.set("x-ssr", "1");
        return api(req);
      },
      origin,
    });
    await using browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(origin + "/settings/runtime-connections");
      const badge = page.locator("section.connection .row-head [data-state]");
      assert.equal(await badge.getAttribute("data-state"), "ready", "server-rendered first");
      await waitUntil("a 304 poll", () => s.polls.some((p) => p.status === 304), 8000);
      assert.equal(s.polls[0].inm, null, "the first poll is unconditional");
      assert.ok(s.polls.slice(1).every((p) => p.inm === '"v1"'), "later polls send the ETag");
      await page.evaluate(() => ((globalThis as unknown as { __mark: number }).__mark = 1));

      // A change: on screen within 5 s, announced once (the later 304 polls say nothing new).
      const live = page.locator(".connection-list > p[role=status]");
      assert.equal(await live.innerText(), "");
      s.state = "unreachable";
      s.version++;
      const t0 = Date.now();
      await page.locator('[data-state="unreachable"]').first().waitFor({ timeout: 5000 });
      assert.ok(Date.now() - t0 < 5000);
      assert.equal(await live.innerText(), "Build box is now unreachable.");
      await page.evaluate(() => {
        const el = document.querySelector(".connection-list > p[role=status]")!;
        const w = globalThis as unknown as { __announced: number };
        w.__announced = 0;
        new MutationObserver(() => w.__announced++).observe(el, {
          childList: true,
          characterData: true,
          subtree: true,
        });
      });
      const polled = s.polls.length;
      await waitUntil("two more polls", () => s.polls.length >= polled + 2, 8000);
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { __announced: number }).__announced),
        0,
        "unchanged polls do not touch the live region",
      );

      // Hidden: no polls; shown again: one at once.
      await page.evaluate(() => {
        Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
        document.dispatchEvent(new Event("visibilitychange"));
      });
      await sleep(300); // a poll already in flight may still land
      const whileHidden = s.polls.length;
      await sleep(2 * POLL_MS + 500); // two poll intervals and a margin
      assert.equal(s.polls.length, whileHidden, "no polls while hidden");
      s.restartKeys = ["listen", "allowed_hosts"];
      s.version++;
      await page.evaluate(() => {
        Object.defineProperty(document, "hidden", { configurable: true, get: () => false });
        document.dispatchEvent(new Event("visibilitychange"));
      });
      const restart = page.locator(".notice.restart");
      await restart.waitFor({ timeout: 1500 });
      assert.match(await restart.innerText(), /\[server\] listen, allowed_hosts/);
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { __mark?: number }).__mark),
        1,
        "never reloaded",
      );
    } finally {
      await server.shutdown();
      await web.bundler.close();
    }
  },
);
