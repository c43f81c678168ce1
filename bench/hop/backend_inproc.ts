/**
 * The Backend's own CPU per `POST …/input`, in process (issue 15): `createBackend` with one
 * remote runtime process, driven through `app.fetch` at c=8 — no HTTP server in front and no
 * load client, so what is left is the Backend's routing, guards, body, audit, token mint and
 * the pooled POST. Run with `--cpu-prof` to see where it goes.
 *
 *   deno run -A [--cpu-prof] bench/hop/backend_inproc.ts [--bearer] [N]
 * @module
 */
import { parseArgs } from "node:util";
import { createBackend } from "../../backend/mod.ts";
import { parseBackendConfig } from "../../backend/settings/mod.ts";
import { backendKey, BEARER, post, runtime, stopAll, TOKEN } from "./setup.ts";

const args = parseArgs({
  args: Deno.args,
  options: { bearer: { type: "boolean", default: false } },
  allowPositionals: true,
});
const N = Number(args.positionals[0] ?? 20000);

function cpuMs(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(" ");
  return (Number(f[13]) + Number(f[14])) * 10;
}

const tmp = await Deno.makeTempDir({ prefix: "yoi-hop-inproc-" });
try {
  const key = await backendKey(tmp);
  const rt = await runtime("a", key);
  Deno.env.set("YOI_HOP_TOKEN", TOKEN);
  const text = `[[runtimes.remote]]\nid = "a"\nendpoint = "http://127.0.0.1:${rt.port}"\n` +
    (args.values.bearer ? `token_ref = "env:YOI_HOP_TOKEN"\n` : "");
  const be = await createBackend({
    stateDir: tmp,
    port: 1,
    embeddedStore: "memory",
    healthIntervalMs: 0,
    config: parseBackendConfig(text, "workspace-backend.local.toml"),
  });
  const wids: string[] = [];
  for (let i = 0; i < 256; i++) {
    const w = await post<{ worker: { worker_id: string } }>(`${rt.url}/v1/workers`, {}, BEARER);
    wids.push(w.worker.worker_id);
  }
  let next = 0, bad = 0;
  const one = async () => {
    const w = wids[next++ % wids.length];
    const res = await be.app.fetch(
      new Request(`http://127.0.0.1:1/api/runtimes/a/workers/${w}/input`, {
        method: "POST",
        headers: {
          host: "127.0.0.1:1",
          "x-yoi-request": "1",
          "content-type": "application/json",
          "content-length": "13",
        },
        body: '{"text":"hi"}',
      }),
    );
    await res.arrayBuffer();
    if (res.status !== 202) bad++;
  };
  const run = async (n: number) => {
    let left = n;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (left-- > 0) await one();
    }));
  };
  await run(2000);
  const c0 = cpuMs(), t0 = performance.now();
  await run(N);
  const cpu = (cpuMs() - c0) * 1000 / N, wall = (performance.now() - t0) * 1000 / N;
  console.log(
    `${args.values.bearer ? "bearer" : "capability tokens"}: ${N} inputs, ` +
      `Backend CPU ${cpu.toFixed(1)} µs/input (in process, no server), wall ${
        wall.toFixed(1)
      } µs, not 202: ${bad}`,
  );
  await be.close();
} finally {
  await stopAll();
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
