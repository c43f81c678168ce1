/**
 * The live registry (DESIGN §10) end to end with real runtime processes: identity checked
 * on every answer, health states that follow the runtimes, add/edit/delete and hand edits of
 * the config file applied without a restart, streams handed over and ended.
 * @module
 */
import assert from "node:assert/strict";
import { ApiClientError } from "../shared/client.ts";
import {
  AddConnectionResponseSchema,
  type ConnectionList,
  ConnectionListSchema,
  type ConnectionRow,
  DeleteConnectionResponseSchema,
  SaveConnectionResponseSchema,
  type WorkerEvent,
} from "../shared/mod.ts";
import { rejectsWith } from "./support/api_errors.ts";
import { BackendProcess } from "./support/backend_process.ts";
import { EventSocket } from "./support/event_socket.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";
import { TcpForward } from "./support/tcp_forward.ts";
import { sleep, waitUntil } from "./support/wait.ts";

const BASE = "/api/settings/runtime-connections";
const SLOW_PROFILE = `[profiles.slow]\nengine = "echo"\nchunk_chars = 1\ndelay_ms = 10\n`;

function remoteEntry(id: string, endpoint: string): string {
  return `[[runtimes.remote]]\nid = "${id}"\nendpoint = "${endpoint}"\n`;
}

async function list(bp: BackendProcess): Promise<ConnectionList> {
  return await bp.client.get(BASE, ConnectionListSchema);
}

async function row(bp: BackendProcess, id: string): Promise<ConnectionRow | undefined> {
  return (await list(bp)).connections.find((c) => c.id === id);
}

function seqsOf(s: EventSocket): number[] {
  return s.events().map((e: WorkerEvent) => e.seq);
}

function assertContiguous(seqs: number[], what: string) {
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), what);
}

Deno.test("a connection whose id differs from the runtime's --id is never ready, lists none of its workers and refuses calls", async () => {
  await using other = await RuntimeProcess.start({ id: "other" });
  const made = await (await fetch(`${other.url}/v1/workers`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  })).json();
  const wid = made.worker.worker_id as string;
  await using bp = await BackendProcess.start({
    config: remoteEntry("build-box", other.url),
    extraArgs: ["--health-interval-ms", "150"],
  });

  const entry = (await bp.client.listRuntimes()).runtimes.find((r) =>
    r.runtime_id === "build-box"
  )!;
  assert.equal(entry.state, "incompatible");
  assert.equal(entry.status, "incompatible");
  assert.equal(entry.can_create_worker, false);
  assert.equal(entry.worker_count, null);
  assert.equal(entry.diagnostics[0].code, "runtime_id_mismatch");

  const all = await bp.client.listAllWorkers();
  assert.ok(!all.workers.some((w) => w.worker_id === wid || w.runtime_id === "build-box"));
  const d = all.diagnostics.find((x) => x.runtime_id === "build-box");
  assert.equal(d?.code, "runtime_id_mismatch", JSON.stringify(all.diagnostics));
  assert.match(d!.message, /incompatible/);

  await rejectsWith(bp.client.getWorker("build-box", wid), 502, "runtime_id_mismatch", "detail");
  await rejectsWith(bp.client.createWorker("build-box", {}), 502, "runtime_id_mismatch", "create");
  await rejectsWith(bp.client.listWorkers("build-box"), 502, "runtime_id_mismatch", "list");
  await rejectsWith(bp.client.input("build-box", wid, "x"), 502, "runtime_id_mismatch", "input");

  // Several health intervals later: still never ready.
  const r = await waitUntil("5 checks", async () => {
    const x = await row(bp, "build-box");
    return x && x.health_history.length >= 5 ? x : undefined;
  });
  assert.ok(r.health_history.every((h) => h.state === "incompatible"));
  assert.equal(r.last_ok_at, null);
  // The runtime itself was never asked to do anything: its only worker is the one made here.
  const direct = await (await fetch(`${other.url}/v1/workers`)).json();
  assert.equal(direct.workers.length, 1);
});

Deno.test("a runtime swapped behind the same port is refused on its very next answer, with no health tick in between", async () => {
  const first = await RuntimeProcess.start({ id: "swap" });
  const port = first.port;
  await using bp = await BackendProcess.start({
    config: remoteEntry("swap", first.url),
    extraArgs: ["--health-interval-ms", "600000"],
  });
  const w = (await bp.client.createWorker("swap", {})).worker;
  const before = (await row(bp, "swap"))!;
  assert.equal(before.state, "ready");
  const checks = before.health_history.length;

  await first.kill("SIGKILL");
  await using intruder = await RuntimeProcess.restartOnPort({ id: "intruder", port });
  assert.equal(intruder.port, port);

  await rejectsWith(bp.client.getWorker("swap", w.worker_id), 502, "runtime_id_mismatch", "next");
  const after = (await row(bp, "swap"))!;
  assert.equal(after.state, "incompatible");
  assert.equal(after.health_history.length, checks + 1, "one observation, no tick");
  assert.equal(after.health_history[0].code, "runtime_id_mismatch");
  // Nothing else reaches it either.
  await rejectsWith(bp.client.createWorker("swap", {}), 502, "runtime_id_mismatch", "create");
  const direct = await (await fetch(`${intruder.url}/v1/workers`)).json();
  assert.equal(direct.workers.length, 0, "no worker was created on the intruder");
});

Deno.test("add applies live; editing the endpoint hands an open stream over with contiguous seqs; delete needs force while workers remain and ends the stream", async () => {
  await using rt = await RuntimeProcess.start({ id: "mover", config: SLOW_PROFILE });
  await using hop = new TcpForward(rt.port);
  await using bp = await BackendProcess.start({
    config: "# no remotes yet\n",
    extraArgs: ["--health-interval-ms", "600000", "--reconnect-backoff-ms", "50"],
  });

  // Add through the forwarder, then create a worker on it at once, no restart.
  const added = await bp.client.send(
    "POST",
    BASE,
    { id: "mover", endpoint: hop.url },
    AddConnectionResponseSchema,
  );
  assert.deepEqual([added.applied, added.restart_required], [true, false]);
  const w = (await bp.client.createWorker("mover", { profile: "slow" })).worker;

  // A console streams a long turn through the forwarder…
  await using sock = new EventSocket(bp.client.eventsUrl("mover", w.worker_id, 0));
  assert.equal(await sock.opened, true);
  await bp.client.input("mover", w.worker_id, "x".repeat(150));
  await sock.waitFor("some output", (s) => s.events().length >= 10);

  // …when the endpoint is edited to the runtime's own port.
  const before = await Deno.readTextFile(`${bp.stateDir}/workspace-backend.local.toml`);
  const edited = await bp.client.send(
    "PATCH",
    `${BASE}/mover`,
    { endpoint: rt.url, display_name: "Mover" },
    SaveConnectionResponseSchema,
  );
  assert.equal(edited.connection.endpoint, rt.url);
  assert.equal(edited.connection.state, "ready");
  const after = await Deno.readTextFile(`${bp.stateDir}/workspace-backend.local.toml`);
  assert.equal(
    after,
    before.replace(`endpoint = "${hop.url}"`, `endpoint = "${rt.url}"`) +
      `display_name = "Mover"\n`,
    "only the edited entry's lines changed",
  );
  await sleep(100);
  await hop.close(); // the old endpoint is gone: only the new one can serve the rest
  await sock.waitFor("the whole turn", (s) => s.events().some((e) => e.type === "turn.completed"));
  assertContiguous(seqsOf(sock), "one stream across the edit");
  const controls = sock.controls();
  assert.ok(controls.includes("stream.reconnecting") && controls.includes("stream.resumed"));
  assert.equal(controls.indexOf("stream.reconnecting") < controls.indexOf("stream.resumed"), true);

  // An idle worker is a worker in use: 409 with the count, nothing removed.
  await rejectsWith(
    bp.client.send("DELETE", `${BASE}/mover`, undefined, DeleteConnectionResponseSchema),
    409,
    "runtime_in_use",
    "delete with an idle worker",
  );
  assert.equal((await row(bp, "mover"))?.state, "ready");
  // A busy one too; then force.
  await bp.client.input("mover", w.worker_id, "y".repeat(400));
  await assert.rejects(
    bp.client.send("DELETE", `${BASE}/mover`, undefined, DeleteConnectionResponseSchema),
    (e) => e instanceof ApiClientError && e.code === "runtime_in_use" && /1 worker/.test(e.message),
  );
  const del = await bp.client.send(
    "DELETE",
    `${BASE}/mover?force=true`,
    undefined,
    DeleteConnectionResponseSchema,
  );
  assert.deepEqual(del, { deleted: "mover", applied: true, restart_required: false });
  await sock.waitFor("runtime_removed", (s) => s.frames.some((f) => f.type === "stream.ended"));
  const ended = sock.frames.find((f) => f.type === "stream.ended")!;
  assert.equal(ended.reason, "runtime_removed");
  await sock.closed;
  await rejectsWith(bp.client.getWorker("mover", w.worker_id), 404, "runtime_not_found", "gone");
  await rejectsWith(bp.client.createWorker("mover", {}), 404, "runtime_not_found", "gone");
});

Deno.test("a killed runtime turns unreachable within two health intervals, keeps its workers listed as stale, and is ready again after a restart without any request", async () => {
  const INTERVAL = 300;
  let rt = await RuntimeProcess.start({ id: "flaky" });
  const port = rt.port;
  await using bp = await BackendProcess.start({
    config: remoteEntry("flaky", rt.url),
    extraArgs: ["--health-interval-ms", String(INTERVAL)],
  });
  try {
    const w = (await bp.client.createWorker("flaky", {})).worker;
    assert.ok((await bp.client.listAllWorkers()).workers.some((x) => x.worker_id === w.worker_id));

    await rt.kill("SIGKILL");
    const killedAt = Date.now();
    // Only the settings list is read here (it never triggers a check itself).
    const down = await waitUntil(
      "unreachable",
      async () => {
        const r = await row(bp, "flaky");
        return r?.state === "unreachable" ? r : undefined;
      },
      10_000,
      20,
    );
    const took = Date.now() - killedAt;
    // Two intervals (with their +20 % jitter), plus room for a loaded 2-core machine; the
    // default interval is 15 s, so this still shows the periodic checks at work.
    assert.ok(took <= 2 * INTERVAL * 1.2 + 1500, `unreachable after ${took} ms`);
    assert.ok(down.last_ok_at !== null && down.last_checked_at! > down.last_ok_at!);
    assert.equal(down.worker_count, null);

    // Verified before: its last-known workers stay listed, marked stale.
    const all = await bp.client.listAllWorkers();
    const stale = all.workers.find((x) => x.worker_id === w.worker_id);
    assert.equal(stale?.stale, true);
    assert.ok(all.diagnostics.some((d) => d.runtime_id === "flaky"));
    await rejectsWith(
      bp.client.input("flaky", w.worker_id, "x"),
      502,
      "remote_runtime_unavailable",
      "call to a down runtime",
    );

    rt = await RuntimeProcess.restartOnPort({ id: "flaky", port });
    const up = await waitUntil(
      "ready again",
      async () => {
        const r = await row(bp, "flaky");
        return r?.state === "ready" ? r : undefined;
      },
      10_000,
      20,
    );
    assert.equal(up.worker_count, 0, "a fresh memory-store runtime");
    const states = up.health_history.map((h) => h.state);
    assert.equal(states[0], "ready");
    assert.ok(states.includes("unreachable"));
    assert.ok(
      !(await bp.client.listAllWorkers()).workers.some((x) => x.stale),
      "live again: nothing stale",
    );
  } finally {
    await rt.kill("SIGKILL");
  }
});

Deno.test("hand edits of the config file apply within 2 s; a file that breaks keeps the registry serving and refuses mutations", async () => {
  await using a = await RuntimeProcess.start({ id: "aa" });
  await using b = await RuntimeProcess.start({ id: "bb" });
  await using c = await RuntimeProcess.start({ id: "cc" });
  await using bp = await BackendProcess.start({
    config: `# kept by hand\n${remoteEntry("aa", a.url)}\n${remoteEntry("bb", c.url)}`,
    extraArgs: ["--health-interval-ms", "600000"],
  });
  const path = `${bp.stateDir}/workspace-backend.local.toml`;
  const ids = async () => (await bp.client.listRuntimes()).runtimes.map((r) => r.runtime_id);
  assert.deepEqual((await ids()).sort(), ["aa", "bb", "embedded"]);
  assert.equal((await row(bp, "bb"))?.state, "incompatible", "bb points at runtime cc");

  // By hand: remove aa, fix bb's endpoint, add cc.
  const t0 = Date.now();
  await Deno.writeTextFile(
    path,
    `# kept by hand\n${remoteEntry("bb", b.url)}\n${remoteEntry("cc", c.url)}`,
  );
  // Applied = the registry has the new entries (their first checks then run on their own).
  await waitUntil(
    "hand edit applied",
    async () => {
      const s = await ids();
      return !s.includes("aa") && s.includes("cc") ? s : undefined;
    },
    5_000,
    20,
  );
  const took = Date.now() - t0;
  assert.ok(took < 2_000, `applied after ${took} ms`);
  await waitUntil(
    "the edited and added entries are ready",
    async () => {
      const l = await list(bp);
      const s = Object.fromEntries(l.connections.map((r) => [r.id, r.state]));
      return s.aa === undefined && s.bb === "ready" && s.cc === "ready" ? l : undefined;
    },
    10_000,
    20,
  );
  assert.deepEqual((await ids()).sort(), ["bb", "cc", "embedded"]);
  await rejectsWith(bp.client.listWorkers("aa"), 404, "runtime_not_found", "removed by hand");
  assert.equal((await bp.client.createWorker("cc", {})).worker.runtime_id, "cc");

  // A write the Backend makes itself applies once (the watcher sees no difference).
  await bp.client.send("POST", BASE, { id: "aa", endpoint: a.url }, AddConnectionResponseSchema);
  await sleep(1200);
  const aa = (await row(bp, "aa"))!;
  assert.equal(aa.health_history.length, 1, "one check after add, none from the watcher");

  // Break the file: the last good registry keeps serving; line and column are named.
  await Deno.writeTextFile(path, `# kept by hand\n[[runtimes.remote]\nid = "zz"\n`);
  const broken = await waitUntil(
    "config_ok false",
    async () => {
      const l = await list(bp);
      return l.config_ok ? undefined : l;
    },
    5_000,
    20,
  );
  const d = broken.diagnostics.find((x) => x.code === "config_unparsable")!;
  assert.equal(d.file, "workspace-backend.local.toml");
  assert.equal(d.line, 2);
  assert.ok(typeof d.column === "number" && d.column > 0);
  assert.ok(!JSON.stringify(broken).includes(bp.stateDir), "no local path");
  assert.deepEqual((await ids()).sort(), ["aa", "bb", "cc", "embedded"]);
  assert.equal((await bp.client.createWorker("bb", {})).worker.runtime_id, "bb");
  await waitUntil(
    "the Backend page says so too",
    async () => !(await bp.client.backendInfo()).backend.config_ok,
    2_000,
    20,
  );
  await rejectsWith(
    bp.client.send("POST", BASE, { id: "dd", endpoint: a.url }, AddConnectionResponseSchema),
    409,
    "config_unparsable",
    "add while broken",
  );
  await rejectsWith(
    bp.client.send("PATCH", `${BASE}/bb`, { display_name: "B" }, SaveConnectionResponseSchema),
    409,
    "config_unparsable",
    "edit while broken",
  );
  await rejectsWith(
    bp.client.send("DELETE", `${BASE}/cc?force=true`, undefined, DeleteConnectionResponseSchema),
    409,
    "config_unparsable",
    "delete while broken",
  );
  assert.equal(
    await Deno.readTextFile(path),
    `# kept by hand\n[[runtimes.remote]\nid = "zz"\n`,
    "never overwritten",
  );
});

function openFds(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

Deno.test("add/edit/delete racing with calls and streams: typed answers only, no crash, no leaked sockets", async () => {
  await using rt = await RuntimeProcess.start({ id: "race", config: SLOW_PROFILE });
  await using hop = new TcpForward(rt.port);
  await using bp = await BackendProcess.start({
    config: remoteEntry("race", rt.url),
    extraArgs: ["--health-interval-ms", "200", "--reconnect-backoff-ms", "20"],
  });
  const pid = bp.child.pid;
  const w = (await bp.client.createWorker("race", { profile: "slow" })).worker;
  await sleep(300);
  const baseline = openFds(pid);

  const allowed = new Set([
    "runtime_not_found",
    "worker_not_found",
    "worker_busy",
    "remote_runtime_unavailable",
    "remote_runtime_timeout",
    "runtime_in_use",
    "duplicate_runtime_id",
  ]);
  const failures: string[] = [];
  const guard = async (what: string, p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      if (!(e instanceof ApiClientError) || !allowed.has(e.code)) {
        failures.push(`${what}: ${e instanceof ApiClientError ? `${e.httpStatus} ${e.code}` : e}`);
      }
    }
  };
  const sockets: EventSocket[] = [];
  /** One round of concurrent changes, calls and streams. */
  const round = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const endpoint = i % 2 ? hop.url : rt.url;
      const ops: Promise<unknown>[] = [
        guard(
          "edit",
          bp.client.send("PATCH", `${BASE}/race`, { endpoint }, SaveConnectionResponseSchema),
        ),
        guard("detail", bp.client.getWorker("race", w.worker_id)),
        guard("list", bp.client.listAllWorkers()),
        guard("transcript", bp.client.transcript("race", w.worker_id, 0, 10)),
      ];
      if (i % 5 === 0) {
        ops.push(guard("input", bp.client.input("race", w.worker_id, "z".repeat(30))));
        sockets.push(new EventSocket(bp.client.eventsUrl("race", w.worker_id, 0)));
      }
      if (i % 7 === 3) {
        ops.push(guard(
          "delete+add",
          bp.client.send(
            "DELETE",
            `${BASE}/race?force=true`,
            undefined,
            DeleteConnectionResponseSchema,
          )
            .then(() =>
              bp.client.send(
                "POST",
                BASE,
                { id: "race", endpoint: rt.url },
                AddConnectionResponseSchema,
              )
            ),
        ));
      }
      await Promise.all(ops);
    }
    for (const s of sockets.splice(0)) await s.close();
  };
  // Settled fds after a first round, then after a second: a leak grows with the rounds.
  const settled = async () => {
    await sleep(1500);
    return openFds(pid);
  };
  await round(20);
  const afterFirst = await settled();
  await round(40);
  const afterSecond = await settled();
  assert.deepEqual(failures, [], "only typed, expected errors");

  // Still serving, and the registry ends where the last change put it.
  const live = await waitUntil("ready at the end", async () => {
    const r = await row(bp, "race");
    return r?.state === "ready" ? r : undefined;
  });
  assert.ok(live.endpoint === rt.url || live.endpoint === hop.url);
  assert.equal((await bp.client.getWorker("race", w.worker_id)).worker.worker_id, w.worker_id);
  // Sockets of replaced clients and closed streams are released: twice the work, no more fds
  // (keep-alive pools of the two endpoints are bounded and shared by every client).
  assert.ok(
    afterSecond <= afterFirst + 4,
    `fds grew with the rounds: ${baseline} → ${afterFirst} → ${afterSecond}`,
  );
  assert.ok(afterFirst <= baseline + 30, `fds ${afterFirst} vs baseline ${baseline}`);
  assert.doesNotMatch(bp.output, /Uncaught|unhandled|internal_error/i);
});
