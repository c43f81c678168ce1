/**
 * The Backend's list mirror (issue 15, `backend/registry/list_feed.ts`) with real runtime
 * processes: after warm-up, lists ask the runtime nothing (requests counted at a TCP forwarder
 * between Backend and runtime); a worker created at the runtime itself shows up shortly after;
 * one created through the Backend is in the very next list; a `kill -9` lists the runtime's
 * workers stale with its diagnostic as before; another runtime behind the port is refused as
 * incompatible; removing or editing the connection stops the loop and leaves nothing running.
 * @module
 */
import assert from "node:assert/strict";
import { BackendProcess } from "./support/backend_process.ts";
import { authHeaders, RuntimeProcess } from "./support/runtime_process.ts";
import { TcpForward } from "./support/tcp_forward.ts";
import { sleep, waitUntil } from "./support/wait.ts";
import { RemoteRuntimeHandle } from "../backend/registry/remote_handle.ts";

/** List requests that are not the feed's held ones (`?wait=`). */
const plainLists = (tap: TcpForward) =>
  tap.requests.filter((r) => r.startsWith("GET /v1/workers") && !r.includes("wait=")).length;

Deno.test("list mirror: lists after warm-up ask the runtime nothing; changes at the runtime arrive by the feed; the Backend's own writes are in the next list; kill -9 lists stale", async () => {
  const rt = await RuntimeProcess.start({ id: "rt" });
  const tap = new TcpForward(rt.port);
  try {
    await using be = await BackendProcess.start({
      config: `[[runtimes.remote]]\nid = "rt"\nendpoint = "${tap.url}"\n`,
    });
    const c = be.client;
    const first = (await c.createWorker("rt", {})).worker.worker_id;
    // Warm-up: the feed runs (a held request is open) and the mirror has the list.
    await waitUntil(
      "the feed holds a request",
      () => tap.requests.some((r) => r.includes("wait=")),
    );
    await waitUntil("a list from the mirror", async () => {
      const before = plainLists(tap);
      const l = await c.listAllWorkers();
      return l.workers.length === 1 && plainLists(tap) === before;
    });

    const before = plainLists(tap);
    for (let i = 0; i < 20; i++) {
      const l = await c.listAllWorkers();
      assert.deepEqual(l.workers.map((w) => w.worker_id), [first]);
      assert.deepEqual(l.diagnostics, []);
    }
    const one = await c.listWorkers("rt");
    assert.equal(one.workers.length, 1);
    const idle = await c.listAllWorkers("idle");
    assert.equal(idle.workers.length, 1, "a filtered list is the kept one, filtered");
    assert.equal(plainLists(tap), before, "22 lists, not one list request to the runtime");

    // A worker created at the runtime itself (not through this Backend) arrives by the feed.
    const res = await fetch(`${rt.url}/v1/workers`, {
      method: "POST",
      headers: { ...authHeaders(), "content-type": "application/json" },
      body: JSON.stringify({ display_name: "made at the runtime" }),
    });
    assert.equal(res.status, 201);
    const direct = (await res.json()).worker.worker_id;
    await waitUntil("the runtime's own create in the list", async () => {
      const l = await c.listAllWorkers();
      return l.workers.some((w) => w.worker_id === direct);
    }, 6000);
    assert.equal(plainLists(tap), before, "it came by the feed, not by a list request");

    // Through the Backend: in the very next list (read-your-writes), no waiting.
    const mine = (await c.createWorker("rt", { display_name: "mine" })).worker.worker_id;
    const next = await c.listAllWorkers();
    assert.ok(next.workers.some((w) => w.worker_id === mine), "created: in the next list");
    await c.rename("rt", mine, "renamed");
    const afterRename = await c.listAllWorkers();
    assert.equal(afterRename.workers.find((w) => w.worker_id === mine)?.display_name, "renamed");
    await c.stop("rt", mine);
    assert.equal(
      (await c.listAllWorkers("stopped")).workers.map((w) => w.worker_id).join(),
      mine,
      "stopped: in the next filtered list",
    );

    // kill -9: the held request's socket fails; the next list is the stale one, as before.
    await rt.kill("SIGKILL");
    await sleep(50);
    const stale = await c.listAllWorkers();
    assert.equal(stale.workers.length, 3);
    assert.ok(stale.workers.every((w) => w.stale === true), "last-known workers, stale");
    assert.ok(stale.diagnostics.some((d) => d.code === "remote_runtime_unavailable"));
  } finally {
    await tap.close();
    await rt.kill("SIGKILL").catch(() => {});
  }
});

Deno.test("list mirror: another runtime behind the port is refused; remove and edit stop the feed (nothing left running)", async () => {
  const a = await RuntimeProcess.start({ id: "ra" });
  const tap = new TcpForward(a.port);
  let other: RuntimeProcess | null = null;
  const h = new RemoteRuntimeHandle({ id: "ra", endpoint: tap.url });
  try {
    await h.check();
    assert.equal(h.state, "ready");
    await h.listWorkers();
    await waitUntil("a held feed request", () => tap.requests.some((r) => r.includes("wait=")));
    const n = plainLists(tap);
    await h.listWorkers();
    assert.equal(plainLists(tap), n, "answered by the mirror");

    // Swap: ra dies, another runtime takes its port.
    const port = a.port;
    await a.kill("SIGKILL");
    other = await RuntimeProcess.restartOnPort({ id: "impostor", port });
    await waitUntil("refused as incompatible", async () => {
      await h.listWorkers().catch(() => {});
      return h.state === "incompatible";
    }, 10_000);
    await assert.rejects(() => h.listWorkers(), (e: { code?: string }) => {
      return e.code === "runtime_id_mismatch";
    });

    // Edit back to a real ra, then remove: the held request closes and nothing is left.
    await other.kill("SIGKILL");
    other = await RuntimeProcess.restartOnPort({ id: "ra", port });
    h.reconfigure({ id: "ra", endpoint: tap.url });
    await h.check();
    assert.equal(h.state, "ready");
    await waitUntil("the feed runs again", () => tap.open > 0);
    h.remove();
    await waitUntil("no connection left through the tap", () => tap.open === 0, 5000);
    await sleep(100); // an aborted request settles; the sanitizers then see no op or timer
  } finally {
    h.remove();
    await tap.close();
    await a.kill("SIGKILL").catch(() => {});
    await other?.kill("SIGKILL").catch(() => {});
  }
});

Deno.test("list mirror: a failed feed changes no state and resumes once the runtime answers again", async () => {
  let rt = await RuntimeProcess.start({ id: "rr" });
  const port = rt.port;
  const tap = new TcpForward(port);
  const h = new RemoteRuntimeHandle({ id: "rr", endpoint: tap.url });
  try {
    await h.check();
    await h.listWorkers();
    await waitUntil("a held feed request", () => tap.requests.some((r) => r.includes("wait=")));
    await rt.kill("SIGKILL");
    await waitUntil("the mirror is distrusted", async () => {
      const n = plainLists(tap);
      await h.listWorkers().catch(() => {});
      return plainLists(tap) > n || h.state !== "ready";
    }, 5000);
    rt = await RuntimeProcess.restartOnPort({ id: "rr", port });
    // Lists ask the runtime until it answered; then the feed runs again and they stop asking.
    await waitUntil(
      "lists from the mirror again",
      async () => {
        await h.listWorkers().catch(() => {});
        if (h.state !== "ready") await h.check();
        const n = plainLists(tap);
        await h.listWorkers();
        return plainLists(tap) === n;
      },
      10_000,
      100,
    );
    assert.equal(h.state, "ready");
  } finally {
    h.remove();
    await waitUntil("nothing left through the tap", () => tap.open === 0, 5000);
    await sleep(100);
    await tap.close();
    await rt.kill("SIGKILL").catch(() => {});
  }
});
