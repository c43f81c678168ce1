/**
 * `GET /api/live` (DESIGN §6) against a real Backend and a real runtime process: a tab
 * subscribes to workers and runtimes, then follows creations, status changes, a runtime
 * going down and a connection being deleted, without asking again.
 * @module
 */
import assert from "node:assert/strict";
import { DeleteConnectionResponseSchema } from "../shared/mod.ts";
import { BackendProcess } from "./support/backend_process.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";
import { waitUntil } from "./support/wait.ts";

type Frame = Record<string, unknown>;

class LiveTab {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((r) => this.ws.addEventListener("open", () => r(), { once: true }));
    this.closed = new Promise((r) => this.ws.addEventListener("close", () => r(), { once: true }));
    this.ws.addEventListener("message", (e) => this.frames.push(JSON.parse(String(e.data))));
  }
  send(v: unknown) {
    this.ws.send(typeof v === "string" ? v : JSON.stringify(v));
  }
  find(pred: (f: Frame) => boolean, what: string): Promise<Frame> {
    return waitUntil(what, () => this.frames.find(pred), 15_000, 20);
  }
  async [Symbol.asyncDispose]() {
    if (this.ws.readyState <= WebSocket.OPEN) this.ws.close();
    await this.closed;
  }
}

Deno.test("/api/live: snapshots, then upserts and removes as workers and runtimes change", async () => {
  const rt = await RuntimeProcess.start({ id: "lv" });
  try {
    await using bp = await BackendProcess.start({
      config: `[[runtimes.remote]]\nid = "lv"\nendpoint = "${rt.url}"\n`,
      extraArgs: ["--health-interval-ms", "300"],
    });
    const first = (await bp.client.createWorker("lv", { display_name: "one" })).worker;
    await using tab = new LiveTab(`${bp.url.replace(/^http/, "ws")}/api/live`);
    await tab.opened;

    tab.send("not json");
    const err = await tab.find((f) => f.type === "error", "an error frame");
    assert.equal(err.code, "invalid_request");

    tab.send({ op: "subscribe", topic: "workers" });
    tab.send({ op: "subscribe", topic: "runtimes" });
    const ws = await tab.find((f) => f.topic === "workers" && f.type === "snapshot", "workers");
    assert.deepEqual(
      (ws.workers as { worker_id: string }[]).map((w) => w.worker_id),
      [first.worker_id],
    );
    const rs = await tab.find((f) => f.topic === "runtimes" && f.type === "snapshot", "runtimes");
    assert.deepEqual(
      (rs.runtimes as { runtime_id: string }[]).map((r) => r.runtime_id).sort(),
      ["embedded", "lv"],
    );

    // A new worker and a status change arrive without asking.
    const second = (await bp.client.createWorker("lv", { display_name: "two" })).worker;
    await tab.find(
      (f) =>
        f.type === "upsert" && (f.worker as { worker_id?: string })?.worker_id === second.worker_id,
      "upsert of the new worker",
    );
    await bp.client.stop("lv", first.worker_id);
    await tab.find(
      (f) =>
        f.type === "upsert" && (f.worker as { worker_id?: string; status?: string })?.worker_id ===
          first.worker_id &&
        (f.worker as { status?: string }).status === "stopped",
      "the stop as an upsert",
    );

    // The runtime goes down: its entry turns unreachable, its workers stay as last seen.
    await rt.kill("SIGKILL");
    await tab.find(
      (f) =>
        f.topic === "runtimes" && f.type === "upsert" &&
        (f.runtime as { runtime_id?: string; state?: string })?.runtime_id === "lv" &&
        (f.runtime as { state?: string }).state === "unreachable",
      "lv unreachable",
    );
    await tab.find(
      (f) => f.type === "upsert" && (f.worker as { stale?: boolean })?.stale === true,
      "stale workers",
    );

    // Deleted: the runtime and its workers are removed.
    await bp.client.send(
      "DELETE",
      "/api/settings/runtime-connections/lv",
      undefined,
      DeleteConnectionResponseSchema,
    );
    await tab.find(
      (f) => f.topic === "runtimes" && f.type === "remove" && f.runtime_id === "lv",
      "runtime removed",
    );
    for (const w of [first, second]) {
      await tab.find(
        (f) => f.topic === "workers" && f.type === "remove" && f.worker_id === w.worker_id,
        `worker ${w.display_name} removed`,
      );
    }
  } finally {
    await rt.kill("SIGKILL");
  }
});

Deno.test("/api/live: a plain GET is a typed 400, a foreign Origin is refused", async () => {
  await using bp = await BackendProcess.start();
  const r = await fetch(`${bp.url}/api/live`);
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error.code, "invalid_request");
  const foreign = await fetch(`${bp.url}/api/live`, {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      origin: "http://evil.example",
      "sec-websocket-key": btoa("0123456789abcdef"),
      "sec-websocket-version": "13",
    },
  });
  assert.equal(foreign.status, 403);
  await foreign.body?.cancel();
});
