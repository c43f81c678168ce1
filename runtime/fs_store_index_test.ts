/**
 * The fs store's index and group commit, on real files: a start reads only the log's tail
 * past the index (counted through the store's read hook, and shown by a log whose head is
 * garbage), an index that cannot be believed is ignored and rebuilt, reads by seq start near
 * their page, and appends of one tick go out in one write.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ApiError, newWorkerId, type WorkerEvent } from "../shared/mod.ts";
import { FsStore, type FsStoreHooks } from "./fs_store.ts";
import { MARK_BYTES } from "./fs_log_index.ts";
import { Runtime } from "./runtime.ts";
import { summarize } from "./log_summary.ts";
import type { RestoredWorker, WorkerRecord } from "./store.ts";

function record(id = newWorkerId()): WorkerRecord {
  return { worker_id: id, profile: "echo", display_name: "W", created_at: "2026-01-01T00:00:00Z" };
}

/** The events of an echo worker: created, idle, then turns of 7 events. */
function log(id: string, n: number, from = 1): WorkerEvent[] {
  const types: [WorkerEvent["type"], (turn: number) => Record<string, unknown>][] = [
    ["input.accepted", (t) => ({ text: `turn ${t} ✓` })],
    ["worker.status", () => ({ status: "busy" })],
    ["turn.started", (t) => ({ turn: t })],
    ["output.delta", (t) => ({ text: `answer ${t}, some text to make the line longer` })],
    ["output.delta", () => ({ text: "more text äöü" })],
    ["turn.completed", (t) => ({ turn: t })],
    ["worker.status", () => ({ status: "idle" })],
  ];
  return Array.from({ length: n }, (_, i) => {
    const seq = from + i;
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, 0, seq)).toISOString();
    if (seq === 1) return { seq, worker_id: id, at, type: "worker.created", data: {} };
    if (seq === 2) {
      return { seq, worker_id: id, at, type: "worker.status", data: { status: "idle" } };
    }
    const k = (seq - 3) % 7;
    const turn = Math.floor((seq - 3) / 7) + 1;
    return { seq, worker_id: id, at, type: types[k][0], data: types[k][1](turn) };
  });
}

/** A store whose log reads and writes are counted. */
function counted(dir: string, maxOpenFiles?: number) {
  const n = { read: 0, writes: 0 };
  const hooks: FsStoreHooks = {
    onLogRead: (b) => void (n.read += b),
    onLogWrite: () => void n.writes++,
  };
  return { store: new FsStore(dir, { hooks, maxOpenFiles }), n };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fs_store_index_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const paths = (dir: string, id: string) => ({
  log: join(dir, "workers", id, "events.jsonl"),
  index: join(dir, "workers", id, "events.index"),
  marks: join(dir, "workers", id, "events.marks"),
});

/** `log_bytes` of the saved index. */
async function indexedBytes(file: string): Promise<number> {
  return JSON.parse((await Deno.readTextFile(file)).split("\n")[0]).log_bytes;
}

/** A store with one worker holding `n` events (saved in batches of 10), closed. */
async function seeded(dir: string, n: number): Promise<{ id: string; events: WorkerEvent[] }> {
  const store = new FsStore(dir);
  await store.open();
  const id = newWorkerId();
  await store.createWorker(record(id));
  const events = log(id, n);
  for (let i = 0; i < n; i += 10) await store.append(id, events.slice(i, i + 10));
  await store.close();
  return { id, events };
}

/** Every event, paged. */
async function readAll(store: FsStore, id: string): Promise<WorkerEvent[]> {
  const out: WorkerEvent[] = [];
  for (let after = 0, i = 0; i < 10_000; i++) {
    const page = await store.read(id, after, 97);
    if (page.length === 0) return out;
    out.push(...page);
    after = page[page.length - 1].seq;
  }
  throw new Error("paging did not end");
}

Deno.test("a start reads the index and only the log's tail, even when the log's head is garbage", async () => {
  await withDir(async (dir) => {
    const { id, events } = await seeded(dir, 3_000);
    const p = paths(dir, id);
    const size = (await Deno.stat(p.log)).size;
    assert.equal(await indexedBytes(p.index), size, "close indexes the whole log");

    // Two more events land after the index (a crash before the next index save).
    const tail = log(id, 2, 3_001);
    await Deno.writeTextFile(p.log, tail.map((e) => JSON.stringify(e) + "\n").join(""), {
      append: true,
    });
    // Everything before the last indexed line becomes garbage of the same length.
    const bytes = await Deno.readFile(p.log);
    const lastLine = bytes.lastIndexOf(0x0a, size - 2) + 1;
    bytes.fill(0x21, 0, lastLine);
    await Deno.writeFile(p.log, bytes);

    const { store, n } = counted(dir);
    const { workers, diagnostics } = await store.open();
    // A full scan would see ~3,000 corrupt lines; the start never looked at them.
    assert.deepEqual(diagnostics, []);
    assert.ok(n.read <= bytes.length - lastLine, `read ${n.read} bytes at start`);
    const want: RestoredWorker = {
      record: record(id),
      summary: {
        last_seq: 3_002,
        last_at: tail[1].at,
        status: "busy",
        display_name: null,
        turn_count: 429,
        open_turn: 429,
        last_outcome: "completed",
      },
    };
    assert.deepEqual(workers, [want]);
    // The same as folding every event (what a full scan of an intact log gives).
    assert.deepEqual(want.summary, summarize([...events, ...tail]));
    // The tail is indexed at once: the next start reads nothing past the index.
    assert.equal(await indexedBytes(p.index), bytes.length);
    await store.close();
  });
});

Deno.test("an index that cannot be believed is ignored: that worker's log is scanned and re-indexed", async () => {
  const spoilers: Record<string, (p: ReturnType<typeof paths>) => Promise<void>> = {
    "garbage": (p) => Deno.writeTextFile(p.index, "\u0000garbage{"),
    "a checksum mismatch": async (p) => {
      const text = await Deno.readTextFile(p.index);
      await Deno.writeTextFile(p.index, text.replace(/"turn_count":(\d)/, '"turn_count":9$1'));
    },
    "an index newer than the log": async (p) => {
      // The log lost its last lines (e.g. not yet on disk at a power cut); the index did not.
      const bytes = await Deno.readFile(p.log);
      let cut = bytes.length - 1;
      for (let i = 0; i < 20; i++) cut = bytes.lastIndexOf(0x0a, cut - 1);
      await Deno.writeFile(p.log, bytes.subarray(0, cut + 1));
    },
    "a log shifted under its index": async (p) => {
      // The same events, each byte one further on (a leading space is still valid JSON).
      await Deno.writeTextFile(p.log, " " + await Deno.readTextFile(p.log));
    },
    "a missing marks file": (p) => Deno.remove(p.marks),
    "a truncated marks file": async (p) => {
      const bytes = await Deno.readFile(p.marks);
      await Deno.writeFile(p.marks, bytes.subarray(0, bytes.length - 3));
    },
  };
  for (const [what, spoil] of Object.entries(spoilers)) {
    await withDir(async (dir) => {
      const { id, events } = await seeded(dir, 2_000);
      const p = paths(dir, id);
      await spoil(p);
      const size = (await Deno.stat(p.log)).size;
      const kept = events.slice(0, (await Deno.readTextFile(p.log)).split("\n").length - 1);

      const { store, n } = counted(dir);
      const { workers, diagnostics } = await store.open();
      assert.deepEqual(diagnostics, [], what);
      assert.ok(n.read >= size, `${what}: the whole log is scanned (${n.read} of ${size})`);
      assert.equal(workers[0].summary.last_seq, kept.length, what);
      assert.equal(workers[0].summary.last_at, kept.at(-1)!.at, what);
      assert.deepEqual(await readAll(store, id), kept, what);
      await store.append(id, log(id, 1, kept.length + 1));
      await store.close();

      // Rebuilt: the next start believes it and reads one line.
      const again = counted(dir);
      const reopened = await again.store.open();
      assert.equal(reopened.workers[0].summary.last_seq, kept.length + 1, what);
      assert.ok(again.n.read < 200, `${what}: ${again.n.read} bytes read after the rebuild`);
      assert.deepEqual((await readAll(again.store, id)).length, kept.length + 1, what);
      await again.store.close();
    });
  }
});

Deno.test("a start on the index and a full scan restore the same workers (Runtime on a real fs store)", async () => {
  await withDir(async (dir) => {
    const open = () =>
      Runtime.open({
        runtimeId: "idx",
        store: new FsStore(dir),
        profiles: { e: { engine: "echo" } },
      });
    const rt = await open();
    const a = await rt.createWorker({ profile: "e", input: "hello" });
    const b = await rt.createWorker({ profile: "e", display_name: "B" });
    for (let i = 0; i < 40; i++) {
      await rt.input(b.worker_id, `input ${i} `.repeat(20));
      while (rt.getWorker(b.worker_id).status !== "idle") {
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    await rt.rename(b.worker_id, "renamed");
    await rt.stop(a.worker_id);
    await rt.shutdown();

    const viaIndex = await open();
    const indexed = viaIndex.listWorkers().map((w) => viaIndex.getWorker(w.worker_id));
    await viaIndex.shutdown();
    for (const w of [a, b]) await Deno.remove(paths(dir, w.worker_id).index);
    const viaScan = await open();
    const scanned = viaScan.listWorkers().map((w) => viaScan.getWorker(w.worker_id));
    await viaScan.shutdown();

    assert.deepEqual(indexed, scanned);
    assert.deepEqual(indexed.map((d) => [d.display_name, d.status, d.turn_count]), [
      ["e worker", "stopped", 1],
      ["renamed", "idle", 40],
    ]);
    assert.equal(indexed[1].last_turn_outcome, "completed");
  });
});

Deno.test("a read by seq starts at the nearest mark, not at the start of the log", async () => {
  await withDir(async (dir) => {
    const { id, events } = await seeded(dir, 20_000);
    const size = (await Deno.stat(paths(dir, id).log)).size;
    const { store, n } = counted(dir);
    await store.open();
    for (const after of [0, 5_000, 12_345, 19_990]) {
      n.read = 0;
      assert.deepEqual(await store.read(id, after, 5), events.slice(after, after + 5));
      assert.ok(n.read <= 2 * MARK_BYTES, `after=${after}: read ${n.read} of ${size} bytes`);
    }
    await store.close();
  });
});

Deno.test("group commit: appends of one tick go out in one write and resolve in order", async () => {
  await withDir(async (dir) => {
    const { store, n } = counted(dir);
    await store.open();
    const id = newWorkerId();
    const other = newWorkerId();
    await store.createWorker(record(id));
    await store.createWorker(record(other));
    const events = log(id, 50);
    const order: number[] = [];
    const calls: Promise<void>[] = events.map((e) =>
      store.append(id, [e]).then(() => void order.push(e.seq))
    );
    calls.push(store.append(other, log(other, 3)));
    await Promise.all(calls);
    assert.equal(n.writes, 2, "one write per worker for the whole tick");
    assert.deepEqual(order, events.map((e) => e.seq));
    assert.deepEqual(await store.read(id, 0, 100), events);

    // Writers that await each append: while one write is in flight the others queue for the next.
    n.writes = 0;
    let seq = 50;
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 25; i++) await store.append(id, log(id, 1, ++seq));
    }));
    assert.ok(n.writes < 200, `${n.writes} writes for 200 appends by 8 writers`);
    assert.deepEqual(
      (await store.read(id, 0, 500)).map((e) => e.seq),
      log(id, 250).map((e) => e.seq),
    );
    await store.close();
  });
});

Deno.test("group commit: a failed write fails every append of the batch, typed, and rolls seq back", async () => {
  await withDir(async (dir) => {
    const { store, n } = counted(dir, 1);
    await store.open();
    const id = newWorkerId();
    const other = newWorkerId();
    await store.createWorker(record(id));
    await store.createWorker(record(other));
    await store.append(id, log(id, 2));
    await store.append(other, log(other, 1)); // closes id's handle (LRU of one)
    // A real failure: the worker's folder is gone (a full disk is in tests/durability_test.ts).
    await Deno.remove(join(dir, "workers", id), { recursive: true });
    n.writes = 0;
    const batch = log(id, 5, 3).map((e) => store.append(id, [e]));
    const results = await Promise.allSettled(batch);
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.ok(r.reason instanceof ApiError && r.reason.code === "store_unavailable");
      assert.ok(!r.reason.message.includes(dir));
    }
    assert.ok(n.writes <= 1);
    // Rolled back to seq 2: seq 4 would skip 3.
    await assert.rejects(
      store.append(id, log(id, 1, 4)),
      (e) => (e as ApiError).code === "internal_error",
    );
    await store.close();
  });
});
