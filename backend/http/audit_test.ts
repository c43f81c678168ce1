import assert from "node:assert/strict";
import { join } from "node:path";
import { type AuditEntry, AuditLog } from "./audit.ts";

Deno.test("AuditLog: 200 concurrent appends → 200 whole lines", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "nested", ".yoi", "audit.log");
    const log = new AuditLog(path);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        log.append({
          operation: `op.${i}`,
          runtime_id: "local",
          worker_id: i % 2 ? `w${i}` : undefined,
          outcome: i % 3 ? "ok" : "worker_busy",
        })),
    );
    await log.close();
    const lines = (await Deno.readTextFile(path)).split("\n");
    assert.equal(lines.pop(), "");
    assert.equal(lines.length, 200);
    const ops = new Set<string>();
    for (const l of lines) {
      const v = JSON.parse(l);
      assert.deepEqual(Object.keys(v), [
        "at",
        "operation",
        "runtime_id",
        "worker_id",
        "outcome",
        "principal",
      ]);
      assert.ok(!Number.isNaN(Date.parse(v.at)));
      assert.equal(v.runtime_id, "local");
      ops.add(v.operation);
    }
    assert.equal(ops.size, 200);
    await assert.rejects(log.append({ operation: "late", outcome: "ok" }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AuditLog: appends to an existing file and writes only the known fields", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "audit.log");
    await Deno.writeTextFile(path, '{"old":true}\n');
    const log = new AuditLog(path);
    await log.append({
      operation: "runtime.add",
      runtime_id: "r1",
      outcome: "ok",
      token: "canary-token",
      body: { prompt: "canary-body" },
    } as unknown as AuditEntry);
    await log.close();
    const text = await Deno.readTextFile(path);
    assert.ok(!text.includes("canary"));
    const [old, line] = text.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(old, { old: true });
    assert.deepEqual(
      { ...line, at: "" },
      {
        at: "",
        operation: "runtime.add",
        runtime_id: "r1",
        worker_id: null,
        outcome: "ok",
        principal: null,
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AuditLog: lines written together are each on disk when their append resolves", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "audit.log");
    const log = new AuditLog(path);
    const onDisk: boolean[] = [];
    await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) =>
          log.append({ operation: `op.${i}`, outcome: "ok" }).then(async () => {
            onDisk[i] = (await Deno.readTextFile(path)).includes(`"op.${i}"`);
          }),
      ),
    );
    assert.equal(onDisk.filter(Boolean).length, 40);
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AuditLog: a failed write rejects its callers; the next append is tried again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "audit.log");
    await Deno.mkdir(path); // a folder where the file should be: opening it fails
    const log = new AuditLog(path);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => log.append({ operation: `op.${i}`, outcome: "ok" })),
    );
    assert.ok(results.every((r) => r.status === "rejected"));
    await Deno.remove(path);
    await log.append({ operation: "after", outcome: "ok" });
    await log.close();
    assert.match(await Deno.readTextFile(path), /"after"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
