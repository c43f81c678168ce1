/**
 * The live lists' refresh rules, against an in-process Backend with its embedded runtime and
 * a tick of one minute, so only the rule under test can move a tab's list.
 * @module
 */
import assert from "node:assert/strict";
import { createBackend } from "./app.ts";
import { waitUntil } from "../../tests/support/wait.ts";
import { RuntimeProcess } from "../../tests/support/runtime_process.ts";

type Frame = { topic?: string; type?: string; worker?: { worker_id?: string; status?: string } };

async function liveBackend(configToml?: string) {
  const stateDir = await Deno.makeTempDir();
  if (configToml) await Deno.writeTextFile(`${stateDir}/workspace-backend.local.toml`, configToml);
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const backend = await createBackend({
    stateDir,
    port,
    embeddedStore: "memory",
    backendKey: null,
    live: { workersIntervalMs: 60_000, coalesceMs: 10 },
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, backend.app.fetch);
  const tabs: WebSocket[] = [];
  return {
    backend,
    base: `http://127.0.0.1:${port}`,
    /** A tab subscribed to workers, its frames, once its snapshot arrived. */
    async tab() {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/live`);
      tabs.push(ws);
      const frames: Frame[] = [];
      ws.onmessage = (e) => frames.push(JSON.parse(String(e.data)));
      await new Promise((r) => ws.addEventListener("open", r, { once: true }));
      ws.send(JSON.stringify({ op: "subscribe", topic: "workers" }));
      await waitUntil("snapshot", () => frames.some((f) => f.type === "snapshot"));
      return frames;
    },
    async [Symbol.asyncDispose]() {
      for (const ws of tabs) {
        const closed = new Promise((r) => ws.addEventListener("close", r, { once: true }));
        ws.close();
        await closed;
      }
      await server.shutdown();
      await backend.close();
      await Deno.remove(stateDir, { recursive: true });
    },
  };
}

const upsertOf = (frames: Frame[], id: string, status?: string) =>
  frames.find((f) =>
    f.type === "upsert" && f.worker?.worker_id === id && (!status || f.worker.status === status)
  );

Deno.test("/api/live: a tab that subscribes does not swallow changes the open tabs have not heard of", async () => {
  await using b = await liveBackend();
  const first = await b.tab();
  // Changed behind the Backend's back (no nudge): only a reading can find it.
  const w = await b.backend.embedded.createWorker({ profile: "echo" });
  const second = await b.tab();
  assert.ok(
    (second.find((f) => f.type === "snapshot") as { workers: { worker_id: string }[] }).workers
      .some((x) => x.worker_id === w.worker_id),
  );
  await waitUntil("the open tab hears of the new worker", () => upsertOf(first, w.worker_id));
  assert.equal(second.filter((f) => f.type === "upsert").length, 0, "the new tab has its snapshot");
});

Deno.test("/api/live: a worker changed through the Backend reaches open tabs without waiting for the tick", async () => {
  await using b = await liveBackend();
  const frames = await b.tab();
  const res = await fetch(`${b.base}/api/runtimes/embedded/workers`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-yoi-request": "1" },
    body: JSON.stringify({ profile: "echo" }),
  });
  assert.equal(res.status, 201);
  const id = (await res.json()).worker.worker_id as string;
  await waitUntil("the create reaches the tab", () => upsertOf(frames, id));
  const stop = await fetch(`${b.base}/api/runtimes/embedded/workers/${id}/stop`, {
    method: "POST",
    headers: { "x-yoi-request": "1" },
  });
  assert.equal(stop.status, 200);
  await stop.body?.cancel();
  await waitUntil("the stop reaches the tab", () => upsertOf(frames, id, "stopped"));
});

Deno.test("/api/live: a worker made directly at a remote runtime reaches open tabs by its list feed, not the tick", async () => {
  await using rt = await RuntimeProcess.start({ id: "far" });
  await using b = await liveBackend(`[[runtimes.remote]]\nid = "far"\nendpoint = "${rt.url}"\n`);
  await waitUntil("the remote is ready", async () => {
    const res = await fetch(`${b.base}/api/runtimes/far`);
    return res.ok && (await res.json()).runtime.state === "ready";
  });
  const frames = await b.tab();
  // Not through this Backend: only the runtime's held list request can tell the hub.
  const res = await fetch(`${rt.url}/v1/workers`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ profile: "echo" }),
  });
  assert.equal(res.status, 201);
  const id = (await res.json()).worker.worker_id as string;
  await waitUntil("the new worker reaches the tab", () => upsertOf(frames, id));
});
