/**
 * A second process writing the Backend's config file through ConnectionStore,
 * for the cross-process concurrency and crash-safety tests.
 *
 *   deno run -A tests/support/connection_writer.ts add PATH ID...
 *     adds every ID (all at once, in parallel) and prints "done N".
 *   deno run -A tests/support/connection_writer.ts add-on-go PATH ID...
 *     prints "ready", waits for a line "go" on stdin, then does the same as add.
 *   deno run -A tests/support/connection_writer.ts loop PATH START
 *     prints "ready", then forever: add w<i>, remove every other w<n> entry, i++.
 *     So the file's w-entries are always {} or {w<i>} or {w<i-1>, w<i>}.
 *
 * Every entry's endpoint is {@link endpointFor}(id), so a reader can check
 * that each entry it sees is complete and consistent.
 * @module
 */
import { ConnectionStore } from "../../backend/settings/connection_store.ts";

/** The endpoint written for `id`. */
export function endpointFor(id: string): string {
  return `http://127.0.0.1:8790/${id}`;
}

async function main() {
  const [mode, path, ...rest] = Deno.args;
  const store = new ConnectionStore(path);
  if (mode === "add-on-go") {
    console.log("ready");
    let got = "";
    for await (const t of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
      got += t;
      if (got.includes("go\n")) break;
    }
  }
  if (mode === "add" || mode === "add-on-go") {
    await Promise.all(rest.map((id) => store.add({ id, endpoint: endpointFor(id) })));
    console.log(`done ${rest.length}`);
    return;
  }
  if (mode === "loop") {
    let i = Number(rest[0] ?? "0");
    console.log("ready");
    for (;;) {
      const id = `w${i}`;
      await store.add({ id, endpoint: endpointFor(id) });
      const snap = await store.snapshot();
      for (const r of snap.remotes) {
        if (/^w\d+$/.test(r.id) && r.id !== id) await store.remove(r.id);
      }
      i++;
    }
  }
  console.error("usage: connection_writer.ts add PATH ID... | loop PATH START");
  Deno.exit(2);
}

if (import.meta.main) await main();
