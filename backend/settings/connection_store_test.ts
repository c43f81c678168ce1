/**
 * ConnectionStore on real files (DESIGN §6, §7): parallel writers in this
 * process and in a second Deno process, crash safety under SIGKILL, refusal
 * to touch a file that does not parse or whose layout cannot be edited
 * (the input rules are tested in connection_input_test.ts).
 * @module
 */
import { decodeText } from "../../shared/deno_ws.ts";
import assert from "node:assert/strict";
import { plain, pythonToml } from "../../tests/support/python_toml.ts";
import { parse } from "smol-toml";
import { ApiError } from "../../shared/mod.ts";
import { ConnectionStore } from "./connection_store.ts";
import { endpointFor } from "../../tests/support/connection_writer.ts";

const WRITER = new URL("../../tests/support/connection_writer.ts", import.meta.url).pathname;
const REPO = new URL("..", import.meta.url).pathname;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A child process running tests/support/connection_writer.ts, with its output collected. */
class Writer {
  readonly child: Deno.ChildProcess;
  #out = "";
  #pumps: Promise<void>[];
  #stdin: WritableStreamDefaultWriter<Uint8Array> | null = null;

  constructor(args: string[], stdin = false) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", WRITER, ...args],
      cwd: REPO,
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (stdin) this.#stdin = this.child.stdin.getWriter();
    const pump = async (s: ReadableStream<Uint8Array>) => {
      for await (const t of decodeText(s)) this.#out += t;
    };
    this.#pumps = [pump(this.child.stdout), pump(this.child.stderr)];
  }

  get output(): string {
    return this.#out;
  }

  async waitFor(re: RegExp, timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!re.test(this.#out)) {
      if (Date.now() > end) throw new Error(`writer never printed ${re}:\n${this.#out}`);
      await sleep(2);
    }
  }

  async send(line: string): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(line));
  }

  async finish(signal?: Deno.Signal): Promise<Deno.CommandStatus> {
    if (signal) {
      try {
        this.child.kill(signal);
      } catch { /* already gone */ }
    }
    if (this.#stdin) await this.#stdin.close().catch(() => {});
    const status = await this.child.status;
    await Promise.all(this.#pumps);
    return status;
  }
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "yoi-connstore-" });
}

interface Entry {
  id: string;
  endpoint: string;
}

/** Parses `path` with both parsers and returns the remote entries, checking each is complete. */
async function entriesOf(path: string): Promise<Entry[]> {
  const text = await Deno.readTextFile(path);
  const doc = parse(text) as { runtimes?: { remote?: Record<string, unknown>[] } };
  assert.deepEqual(await pythonToml(path), plain(doc), "tomllib and smol-toml agree");
  const list = doc.runtimes?.remote ?? [];
  for (const r of list) {
    assert.equal(typeof r.id, "string", `entry without id: ${JSON.stringify(r)}`);
    assert.equal(typeof r.endpoint, "string", `entry without endpoint: ${JSON.stringify(r)}`);
  }
  return list as unknown as Entry[];
}

const BASE = `# base config: kept byte for byte by every writer
[server]
listen = "127.0.0.1:8787" # port

[[runtimes.remote]]
id = "base"
endpoint = "http://127.0.0.1:8790/base"
region = "eu"   # unknown key, kept
`;

Deno.test("concurrency: 50 in-process adds (one store and several stores) + 20 from a second process", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/workspace-backend.local.toml`;
    await Deno.writeTextFile(path, BASE);
    const childIds = Array.from({ length: 20 }, (_, i) => `proc-${i}`);
    const sharedIds = Array.from({ length: 25 }, (_, i) => `shared-${i}`);
    const manyIds = Array.from({ length: 25 }, (_, i) => `many-${i}`);

    // The child waits for "go" on stdin, so its writes overlap ours.
    const child = new Writer(["add-on-go", path, ...childIds], true);
    await child.waitFor(/ready/);
    const shared = new ConnectionStore(path);
    const stores = Array.from({ length: 5 }, () => new ConnectionStore(path));
    await child.send("go\n");
    await Promise.all([
      ...sharedIds.map((id) => shared.add({ id, endpoint: endpointFor(id) })),
      ...manyIds.map((id, i) => stores[i % 5].add({ id, endpoint: endpointFor(id) })),
    ]);
    const status = await child.finish();
    assert.equal(status.code, 0, child.output);
    assert.match(child.output, /done 20/);

    const entries = await entriesOf(path);
    const ids = entries.map((e) => e.id);
    const firstChild = ids.findIndex((id) => id.startsWith("proc-"));
    const lastChild = ids.findLastIndex((id) => id.startsWith("proc-"));
    const interleaved = ids.slice(firstChild, lastChild).filter((id) => !id.startsWith("proc-"));
    console.log(
      `  ${interleaved.length} in-process adds landed between the child's first and last`,
    );
    assert.equal(ids.length, 71, "base + 70 adds, none lost, none doubled");
    assert.deepEqual(
      [...ids].sort(),
      ["base", ...childIds, ...sharedIds, ...manyIds].sort(),
    );
    for (const e of entries) assert.equal(e.endpoint, endpointFor(e.id));
    assert.ok((await Deno.readTextFile(path)).startsWith(BASE), "existing text kept byte for byte");
    const leftovers = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
      n.includes(".tmp-")
    );
    assert.deepEqual(leftovers, [], "no temp files left behind after clean writes");

    // A duplicate added from two stores at once: exactly one wins.
    const results = await Promise.allSettled([
      shared.add({ id: "dup", endpoint: endpointFor("dup") }),
      stores[0].add({ id: "dup", endpoint: endpointFor("dup") }),
    ]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.ok(rejected.reason instanceof ApiError);
    assert.equal(rejected.reason.code, "duplicate_runtime_id");
    assert.equal((await entriesOf(path)).filter((e) => e.id === "dup").length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("crash safety: a writer SIGKILLed at random points 100 times never leaves a broken config", async () => {
  const t0 = performance.now();
  const LANES = 4;
  const KILLS_PER_LANE = 25;
  const dir = await tempDir();
  try {
    let progressed = 0;
    await Promise.all(Array.from({ length: LANES }, async (_, lane) => {
      const path = `${dir}/lane-${lane}.toml`;
      await Deno.writeTextFile(path, BASE);
      let start = 0;
      let lastMax = -1;
      for (let k = 0; k < KILLS_PER_LANE; k++) {
        const w = new Writer(["loop", path, String(start)]);
        await w.waitFor(/ready/);
        await sleep(Math.random() * 60);
        await w.finish("SIGKILL");

        // The config parses (both parsers), every entry is complete and consistent.
        const entries = await entriesOf(path);
        assert.equal(entries[0].id, "base");
        for (const e of entries) assert.equal(e.endpoint, endpointFor(e.id));
        const ws = entries.filter((e) => /^w\d+$/.test(e.id)).map((e) => Number(e.id.slice(1)));
        // A state of the writer's sequence: {}, {w_i} or {w_(i-1), w_i}, never going back.
        assert.ok(ws.length <= 2, `unexpected set ${ws}`);
        if (ws.length === 2) assert.equal(ws[1], ws[0] + 1, `not consecutive: ${ws}`);
        if (ws.length) {
          const max = ws[ws.length - 1];
          assert.ok(max >= lastMax, `went back from w${lastMax} to w${max}`);
          if (max > lastMax) progressed++;
          lastMax = max;
          start = max + 1;
        } else {
          assert.equal(lastMax, -1, "the w entries never all disappear once one was written");
        }
        // Removing the writer's entries gives back the base text byte for byte.
        const text = await Deno.readTextFile(path);
        assert.ok(text.startsWith(BASE.trimEnd()), "base text kept");
        const store = new ConnectionStore(path);
        for (const n of ws) await store.remove(`w${n}`);
        assert.equal(await Deno.readTextFile(path), BASE);
        if (ws.length) await store.add({ id: `w${lastMax}`, endpoint: endpointFor(`w${lastMax}`) });
      }
    }));
    // Temp files may be left by a kill between create and rename; none is the config.
    let tmpLeft = 0;
    for (const e of Deno.readDirSync(dir)) {
      if (e.name.includes(".tmp-")) tmpLeft++;
      assert.ok(
        /^lane-\d\.toml(\.lock|\.tmp-[0-9a-f-]+)?$/.test(e.name),
        `unexpected file ${e.name}`,
      );
    }
    assert.ok(progressed >= LANES, `the writers made progress (${progressed} kills after a write)`);
    const ms = performance.now() - t0;
    console.log(
      `  ${LANES * KILLS_PER_LANE} kills, ${progressed} after progress, ` +
        `${tmpLeft} temp files left by kills, ${ms.toFixed(0)} ms`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unparsable file is never overwritten: add/remove refuse with line and column", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/workspace-backend.local.toml`;
    const broken = new TextEncoder().encode(
      `# broken by hand\n[server]\nlisten = "127.0.0.1:8787"\n\n[[runtimes.remote]]\nid = "a"\nendpoint = \n`,
    );
    await Deno.writeFile(path, broken);
    const store = new ConnectionStore(path);

    const snap = await store.snapshot();
    assert.equal(snap.ok, false);
    assert.deepEqual(snap.remotes, []);
    assert.equal(snap.diagnostics[0].code, "config_unparsable");
    assert.ok(typeof snap.diagnostics[0].line === "number", JSON.stringify(snap.diagnostics));
    assert.ok(typeof snap.diagnostics[0].column === "number");

    const isUnparsable = (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, "config_unparsable");
      assert.match(e.message, /line 7, column \d+/);
      assert.ok(!e.message.includes(dir), "no path in the message");
      return true;
    };
    await assert.rejects(store.add({ id: "b", endpoint: "http://127.0.0.1:1" }), isUnparsable);
    await assert.rejects(store.remove("a"), isUnparsable);
    assert.deepEqual(await Deno.readFile(path), broken, "file bytes unchanged");
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["workspace-backend.local.toml", "workspace-backend.local.toml.lock"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a non-table `runtimes` is refused with config_unsupported_shape and left unchanged", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/c.toml`;
    const text = `runtimes = "nope"\n`;
    await Deno.writeTextFile(path, text);
    await assert.rejects(
      new ConnectionStore(path).add({ id: "b", endpoint: "http://127.0.0.1:1" }),
      (e) =>
        e instanceof ApiError && e.code === "config_unsupported_shape" &&
        /line 1\b/.test(e.message),
    );
    assert.equal(await Deno.readTextFile(path), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (
  const [name, text] of [
    [
      "runtimes.remote = [...] under [runtimes]",
      `# inline layout\n[runtimes]\nremote = [\n  { id = "a", endpoint = "http://127.0.0.1:1" },\n]\n`,
    ],
    [
      "a dotted runtimes.remote = [...] key",
      `runtimes.remote = [{ id = "a", endpoint = "http://127.0.0.1:1" }] # inline\n`,
    ],
    [
      "an inline runtimes = { remote = [...] } table",
      `runtimes = { remote = [{ id = "a", endpoint = "http://127.0.0.1:1" }] }\n`,
    ],
  ] as const
) {
  Deno.test(`inline array layout (${name}): add and remove refuse, file unchanged`, async () => {
    const dir = await tempDir();
    try {
      const path = `${dir}/c.toml`;
      const bytes = new TextEncoder().encode(text);
      await Deno.writeFile(path, bytes);
      const store = new ConnectionStore(path);
      const snap = await store.snapshot();
      assert.ok(snap.ok);
      assert.deepEqual(snap.remotes.map((r) => r.id), ["a"], "the inline entry is read");
      const layout = (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.code, "config_unsupported_shape");
        assert.match(e.message, /could not be edited safely/);
        assert.match(e.message, /inline array|written as a value|dotted/);
        return true;
      };
      await assert.rejects(store.add({ id: "b", endpoint: "http://127.0.0.1:2" }), layout);
      // The entry exists, so "not found" would be wrong: the layout is what cannot be edited.
      await assert.rejects(store.remove("a"), layout);
      // A duplicate is still reported as a duplicate, before any layout question.
      await assert.rejects(
        store.add({ id: "a", endpoint: "http://127.0.0.1:2" }),
        (e) => e instanceof ApiError && e.code === "duplicate_runtime_id",
      );
      assert.deepEqual(await Deno.readFile(path), bytes);
      assert.deepEqual([...Deno.readDirSync(dir)].filter((e) => e.name.includes(".tmp-")), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("remove of an unknown id is runtime_not_found and leaves the file unchanged", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/c.toml`;
    await Deno.writeTextFile(path, BASE);
    await assert.rejects(
      new ConnectionStore(path).remove("nope"),
      (e) => e instanceof ApiError && e.code === "runtime_not_found",
    );
    assert.equal(await Deno.readTextFile(path), BASE);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
