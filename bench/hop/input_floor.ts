/**
 * Where the CPU of one `POST …/input` goes, side by side in one run (issue 15, the floor of
 * `input.c8.backend_vs_direct`): the runtime direct at c=8 and at lower concurrency (the same
 * rate as through the Backend, to tell the per-request cost of a slower arrival rate apart
 * from the token), through a Backend whose connection uses capability tokens (DESIGN §8, the
 * default) and through one whose connection uses the bearer token (the same hop with no
 * token minted or verified). Load: `wrk` (a few µs per request); CPU from /proc.
 *
 *   deno run -A bench/hop/input_floor.ts [--seconds 3] [--rounds 3]
 * @module
 */
import { parseArgs } from "node:util";
import { backend, backendKey, BEARER, post, runtime, stopAll } from "./setup.ts";
import { fmt, rotated, type Target } from "./wrk.ts";

const args = parseArgs({
  args: Deno.args,
  options: { seconds: { type: "string", default: "3" }, rounds: { type: "string", default: "3" } },
});
const MUTATING = { "x-yoi-request": "1", "content-type": "application/json" };

async function lua(file: string, paths: string[]) {
  await Deno.writeTextFile(
    file,
    `local paths = {${paths.map((p) => `"${p}"`).join(",")}}\nlocal i = 0\n` +
      `request = function()\n  i = i + 1\n` +
      `  return wrk.format("POST", paths[(i % #paths) + 1], nil, '{"text":"hi"}')\nend\n`,
  );
}

const tmp = await Deno.makeTempDir({ prefix: "yoi-hop-floor-" });
try {
  const key = await backendKey(tmp);
  const rt = await runtime("a", key);
  const remote = `[[runtimes.remote]]\nid = "a"\nendpoint = "http://127.0.0.1:${rt.port}"\n`;
  const be = await backend(tmp, remote);
  await Deno.mkdir(`${tmp}/bearer`);
  await Deno.copyFile(`${tmp}/backend-key`, `${tmp}/bearer/backend-key`);
  await Deno.chmod(`${tmp}/bearer/backend-key`, 0o600);
  const beBearer = await backend(
    `${tmp}/bearer`,
    remote + `token_ref = "env:YOI_HOP_TOKEN"\n`,
  );
  const wids: string[] = [];
  for (let i = 0; i < 256; i++) {
    wids.push(
      (await post<{ worker: { worker_id: string } }>(`${rt.url}/v1/workers`, {}, BEARER)).worker
        .worker_id,
    );
  }
  await lua(`${tmp}/direct.lua`, wids.map((w) => `/v1/workers/${w}/input`));
  await lua(`${tmp}/api.lua`, wids.map((w) => `/api/runtimes/a/workers/${w}/input`));
  const direct = (name: string): Target => ({
    name,
    url: rt.url,
    headers: { ...BEARER, "content-type": "application/json" },
    script: `${tmp}/direct.lua`,
    watch: { runtime: rt.pid },
  });
  const via = (name: string, url: string, pid: number): Target => ({
    name,
    url,
    headers: MUTATING,
    script: `${tmp}/api.lua`,
    watch: { backend: pid, runtime: rt.pid },
  });
  const seconds = Number(args.values.seconds), rounds = Number(args.values.rounds);
  const c8 = await rotated(
    [direct("direct"), via("backend", be.url, be.pid), via("bearer", beBearer.url, beBearer.pid)],
    8,
    seconds,
    rounds,
  );
  const c1 = await rotated([direct("direct c=1")], 1, seconds, rounds);
  // The bearer hop at lower concurrency: its rate near the token path's, so the CPU per
  // request of a slower arrival rate (fewer requests per wake-up) is told apart from tokens.
  const c4 = await rotated([via("bearer c=4", beBearer.url, beBearer.pid)], 4, seconds, rounds);
  const c2 = await rotated([via("bearer c=2", beBearer.url, beBearer.pid)], 2, seconds, rounds);
  const rows = [...c8.entries(), ...c1.entries(), ...c4.entries(), ...c2.entries()];
  const d = c8.get("direct")!;
  console.log(
    `\n| POST input | req/s | × direct c=8 | Backend CPU µs | runtime CPU µs | wrk CPU µs |`,
  );
  console.log(`|---|---|---|---|---|---|`);
  for (const [name, w] of rows) {
    console.log(
      `| ${name}${name.includes("c=") ? "" : " c=8"} | ${w.rps.toFixed(0)} | ${
        (w.rps / d.rps).toFixed(2)
      } | ${fmt(w.cpuUs.backend)} | ${fmt(w.cpuUs.runtime)} | ${fmt(w.cpuUs.wrk)} |`,
    );
  }
} finally {
  await stopAll();
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
