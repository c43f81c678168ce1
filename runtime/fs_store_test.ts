import assert from "node:assert/strict";
import { join } from "node:path";
import { ApiError, newWorkerId, type WorkerEvent } from "../shared/mod.ts";
import { FsStore } from "./fs_store.ts";
import { emptySummary } from "./log_summary.ts";
import type { WorkerRecord } from "./store.ts";

function record(id = newWorkerId()): WorkerRecord {
  return {
    worker_id: id,
    profile: "echo",
    display_name: "W",
    created_at: new Date().toISOString(),
  };
}

function ev(id: string, seq: number, text = `chunk ${seq} ✓`): WorkerEvent {
  return {
    seq,
    worker_id: id,
    at: new Date(0).toISOString(),
    type: "output.delta",
    data: { text },
  };
}

/** Runs `fn` with a fresh temp dir, removed afterwards. */
async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fs_store_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function eventsPath(dir: string, id: string): string {
  return join(dir, "workers", id, "events.jsonl");
}

async function rejectsWith(p: Promise<unknown>, code: string, dir: string): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, code);
    assert.ok(!e.message.includes(dir), "error message must not contain the data dir");
    return true;
  });
}

Deno.test("create, append and read round-trip", async () => {
  await withDir(async (dir) => {
    const store = new FsStore(join(dir, "data"));
    assert.deepEqual(await store.open(), { workers: [], diagnostics: [] });
    assert.equal(store.kind, "fs");
    const rec = record();
    const id = rec.worker_id;
    await store.createWorker(rec);
    assert.deepEqual(await store.read(id, 0, 10), []);
    const events = [ev(id, 1), ev(id, 2), ev(id, 3)];
    await store.append(id, events.slice(0, 2));
    await store.append(id, events.slice(2));
    assert.deepEqual(await store.read(id, 0, 10), events);
    const rec2 = JSON.parse(
      await Deno.readTextFile(join(dir, "data", "workers", id, "record.json")),
    );
    assert.deepEqual(rec2, rec);
    await store.close();
  });
});

Deno.test("reopen restores workers and events with the same seq", async () => {
  await withDir(async (dir) => {
    const a = record();
    const b = record();
    let store = new FsStore(dir);
    await store.open();
    await store.createWorker(a);
    await store.createWorker(b);
    await store.append(a.worker_id, [ev(a.worker_id, 1), ev(a.worker_id, 2)]);
    await store.flush();
    await store.close();

    store = new FsStore(dir);
    const { workers, diagnostics } = await store.open();
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(workers, [
      { record: a, summary: { ...emptySummary(), last_seq: 2, last_at: ev(a.worker_id, 2).at } },
      { record: b, summary: emptySummary() },
    ]);
    assert.deepEqual(await store.read(a.worker_id, 0, 10), [
      ev(a.worker_id, 1),
      ev(a.worker_id, 2),
    ]);
    await store.append(a.worker_id, [ev(a.worker_id, 3)]);
    assert.deepEqual((await store.read(a.worker_id, 1, 10)).map((e) => e.seq), [2, 3]);
    await rejectsWith(store.append(a.worker_id, [ev(a.worker_id, 3)]), "internal_error", dir);
    await store.close();
  });
});

Deno.test("many concurrent appends land and resolve in call order", async () => {
  await withDir(async (dir) => {
    const store = new FsStore(dir);
    await store.open();
    const id = newWorkerId();
    await store.createWorker(record(id));
    const order: number[] = [];
    const calls: Promise<void>[] = [];
    for (let seq = 1; seq <= 2000; seq++) {
      calls.push(store.append(id, [ev(id, seq)]).then(() => void order.push(seq)));
    }
    await Promise.all(calls);
    const want = Array.from({ length: 2000 }, (_, i) => i + 1);
    assert.deepEqual(order, want);
    assert.deepEqual((await store.read(id, 0, 5000)).map((e) => e.seq), want);
    await store.close();

    const lines = (await Deno.readTextFile(eventsPath(dir, id))).split("\n");
    assert.equal(lines.pop(), "");
    assert.deepEqual(lines.map((l) => JSON.parse(l).seq), want);
  });
});

Deno.test("read pages with after and limit", async () => {
  await withDir(async (dir) => {
    const store = new FsStore(dir);
    await store.open();
    const id = newWorkerId();
    await store.createWorker(record(id));
    await store.append(id, Array.from({ length: 1000 }, (_, i) => ev(id, i + 1)));
    const seqs = async (after: number, limit: number) =>
      (await store.read(id, after, limit)).map((e) => e.seq);
    assert.deepEqual(await seqs(0, 3), [1, 2, 3]);
    assert.deepEqual(await seqs(3, 2), [4, 5]);
    assert.deepEqual(await seqs(997, 10), [998, 999, 1000]);
    assert.deepEqual(await seqs(1000, 10), []);
    assert.deepEqual(await seqs(5, 0), []);
    const all: number[] = [];
    for (let after = 0;;) {
      const page = await store.read(id, after, 128);
      if (page.length === 0) break;
      all.push(...page.map((e) => e.seq));
      after = page[page.length - 1].seq;
    }
    assert.equal(all.length, 1000);
    assert.deepEqual((await store.read(id, 499, 1))[0], ev(id, 500));
    await store.close();
  });
});

Deno.test("torn last line is truncated on open and appends continue", async () => {
  await withDir(async (dir) => {
    const id = newWorkerId();
    let store = new FsStore(dir);
    await store.open();
    await store.createWorker(record(id));
    await store.append(id, [1, 2, 3, 4].map((s) => ev(id, s)));
    await store.close();
    await Deno.writeTextFile(eventsPath(dir, id), '{"seq":5,"wor', { append: true });

    store = new FsStore(dir);
    const { workers, diagnostics } = await store.open();
    assert.equal(workers[0].summary.last_seq, 4);
    assert.deepEqual((await store.read(id, 0, 10)).map((e) => e.seq), [1, 2, 3, 4]);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0].code, "store_torn_line_truncated");
    assert.equal(diagnostics[0].severity, "warning");
    assert.ok(diagnostics[0].message.includes(id));
    assert.ok(!JSON.stringify(diagnostics).includes(dir));
    const text = await Deno.readTextFile(eventsPath(dir, id));
    assert.ok(text.endsWith("}\n"));
    assert.ok(!text.includes('"wor\n') && !text.endsWith('"wor'));

    await store.append(id, [ev(id, 5)]);
    assert.deepEqual((await store.read(id, 3, 10)).map((e) => e.seq), [4, 5]);
    await store.close();
    store = new FsStore(dir);
    const again = await store.open();
    assert.deepEqual(again.diagnostics, []);
    assert.equal(again.workers[0].summary.last_seq, 5);
    assert.deepEqual((await store.read(id, 0, 10)).map((e) => e.seq), [1, 2, 3, 4, 5]);
    await store.close();
  });
});

Deno.test("corrupt middle lines are skipped with a diagnostic", async () => {
  await withDir(async (dir) => {
    const id = newWorkerId();
    const lines = [
      JSON.stringify(ev(id, 1)),
      "not json",
      JSON.stringify({ seq: 2, worker_id: id }), // fails the schema
      JSON.stringify(ev(id, 2)),
      JSON.stringify(ev(id, 2)), // duplicate seq
      JSON.stringify(ev(id, 3)),
    ];
    await Deno.mkdir(join(dir, "workers", id), { recursive: true });
    await Deno.writeTextFile(join(dir, "workers", id, "record.json"), JSON.stringify(record(id)));
    await Deno.writeTextFile(eventsPath(dir, id), lines.join("\n") + "\n");

    const store = new FsStore(dir);
    const { workers, diagnostics } = await store.open();
    assert.equal(workers[0].summary.last_seq, 3);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0].code, "store_corrupt_line_skipped");
    assert.ok(diagnostics[0].message.includes(id));
    assert.ok(diagnostics[0].message.includes("3 corrupt"));
    // The index skips the corrupt lines too.
    assert.deepEqual(await store.read(id, 1, 1), [ev(id, 2)]);
    assert.deepEqual(await store.read(id, 0, 10), [ev(id, 1), ev(id, 2), ev(id, 3)]);
    await store.append(id, [ev(id, 4)]);
    assert.deepEqual((await store.read(id, 2, 10)).map((e) => e.seq), [3, 4]);
    await store.close();
  });
});

Deno.test("invalid worker ids are rejected and never touch the disk", async () => {
  await withDir(async (dir) => {
    const store = new FsStore(dir);
    await store.open();
    for (const bad of ["../x", "..", "", "a/b", newWorkerId().toUpperCase()]) {
      await rejectsWith(store.createWorker(record(bad)), "invalid_id", dir);
      await rejectsWith(store.append(bad, []), "invalid_id", dir);
      await rejectsWith(store.read(bad, 0, 10), "invalid_id", dir);
    }
    await rejectsWith(store.read(newWorkerId(), 0, 10), "worker_not_found", dir);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["workers"]);
    assert.deepEqual([...Deno.readDirSync(join(dir, "workers"))], []);
    await store.close();
  });
});

Deno.test("open skips bad directories with path-free diagnostics", async () => {
  await withDir(async (dir) => {
    const good = newWorkerId();
    const noRecord = newWorkerId();
    const badRecord = newWorkerId();
    let store = new FsStore(dir);
    await store.open();
    await store.createWorker(record(good));
    await store.close();
    await Deno.remove(join(dir, "workers", good, "events.jsonl")); // record only: empty log
    await Deno.mkdir(join(dir, "workers", "not-a-worker"));
    await Deno.mkdir(join(dir, "workers", noRecord));
    await Deno.mkdir(join(dir, "workers", badRecord));
    await Deno.writeTextFile(join(dir, "workers", badRecord, "record.json"), "{");

    store = new FsStore(dir);
    const { workers, diagnostics } = await store.open();
    assert.deepEqual(workers.map((w) => [w.record.worker_id, w.summary.last_seq]), [[good, 0]]);
    assert.equal(diagnostics.length, 3);
    assert.ok(diagnostics.every((d) => d.severity === "warning"));
    const text = JSON.stringify(diagnostics);
    assert.ok(!text.includes(dir) && !text.includes("not-a-worker"));
    assert.ok(text.includes(noRecord) && text.includes(badRecord));
    await store.append(good, [ev(good, 1)]);
    assert.deepEqual(await store.read(good, 0, 10), [ev(good, 1)]);
    await store.close();
  });
});

Deno.test("IO failures and closed-store calls throw path-free errors", async () => {
  await withDir(async (dir) => {
    const id = newWorkerId();
    let store = new FsStore(dir);
    await store.open();
    await store.createWorker(record(id));
    await rejectsWith(store.createWorker(record(id)), "internal_error", dir);
    await store.close();
    await rejectsWith(store.append(id, [ev(id, 1)]), "runtime_stopping", dir);
    await rejectsWith(store.read(id, 0, 1), "runtime_stopping", dir);
    await store.close(); // idempotent

    store = new FsStore(dir);
    await store.open();
    await Deno.remove(join(dir, "workers", id), { recursive: true });
    await rejectsWith(store.append(id, [ev(id, 1)]), "store_unavailable", dir);
    await rejectsWith(store.append(id, [ev(id, 1)]), "store_unavailable", dir); // stays failed
    await store.close();
  });
});

Deno.test("open log files are bounded by an LRU; evicted logs reopen and keep appending in order", async () => {
  await withDir(async (dir) => {
    const store = new FsStore(dir, { maxOpenFiles: 4 });
    await store.open();
    const ids = Array.from({ length: 12 }, () => newWorkerId());
    for (const id of ids) await store.createWorker(record(id));
    assert.equal(store.openFiles, 0, "creating a worker keeps no handle open");
    for (let round = 1; round <= 3; round++) {
      await Promise.all(ids.map((id) => store.append(id, [ev(id, round)])));
      // Writes in flight may hold a handle past the cap; at rest the cap holds.
      assert.ok(store.openFiles <= 4, `${store.openFiles} open after round ${round}`);
    }
    for (const id of ids) {
      assert.deepEqual((await store.read(id, 0, 10)).map((e) => e.seq), [1, 2, 3]);
    }
    await store.close();
    assert.equal(store.openFiles, 0);
  });
});

Deno.test("a failed write refuses what is queued behind it and rolls back to the last written seq", async () => {
  await withDir(async (dir) => {
    const id = newWorkerId();
    const other = newWorkerId();
    const store = new FsStore(dir, { maxOpenFiles: 1 });
    await store.open();
    await store.createWorker(record(id));
    await store.createWorker(record(other));
    await store.append(id, [ev(id, 1), ev(id, 2)]);
    await store.append(other, [ev(other, 1)]); // closes id's handle (LRU of one)
    // A real write failure: the worker's folder is gone, so the log cannot be opened.
    // (A full disk is exercised with a real tmpfs in tests/durability_test.ts.)
    await Deno.remove(join(dir, "workers", id), { recursive: true });
    const failed = store.append(id, [ev(id, 3)]);
    const queued = store.append(id, [ev(id, 4)]); // queued behind the failure: refused too
    await rejectsWith(failed, "store_unavailable", dir);
    await rejectsWith(queued, "store_unavailable", dir);
    assert.equal(store.storeState().writable, false);
    // The queue rolled back to seq 2: seq 4 would skip 3 and is refused; 3 is tried again.
    await rejectsWith(store.append(id, [ev(id, 4)]), "internal_error", dir);
    await rejectsWith(store.append(id, [ev(id, 3)]), "store_unavailable", dir);
    await store.close();
  });
});
