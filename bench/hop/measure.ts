/**
 * Side-by-side measurements of the Backend's REST hop (issue 15), with `wrk` as the load:
 *
 *   deno run -A bench/hop/measure.ts clients [--seconds 4] [--rounds 3]
 *     the HTTP client candidates, each in a minimal forwarder (`forwarder.ts`), beside the
 *     runtime direct and nginx: req/s at c=32 and the forwarder's CPU per request.
 *   deno run -A bench/hop/measure.ts goals --before DIR [--seconds 4] [--rounds 3]
 *     the goal rows of issue 15 for the Backend of this tree ("after") and of the tree in DIR
 *     ("before", e.g. `git archive <commit> | tar -x -C DIR`), each with its own runtime.
 *
 * Tokens are on (DESIGN §8): runtimes trust the Backend key; the direct baseline and nginx
 * use the runtime's bearer token. Medians of rotated rounds; CPU from /proc (µs/request).
 * @module
 */
import { parseArgs } from "node:util";
import { backendKey, BEARER, forwarder, nginx, post, runtime, stopAll } from "./setup.ts";
import { fmt, rotated, type Target } from "./wrk.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "4" },
    rounds: { type: "string", default: "3" },
    before: { type: "string" },
    only: { type: "string" },
  },
  allowPositionals: true,
});
const SECONDS = Number(args.values.seconds);
const ROUNDS = Number(args.values.rounds);
const scenario = args.positionals[0] ?? "clients";

const tmp = await Deno.makeTempDir({ prefix: "yoi-hop-" });
try {
  if (scenario === "clients") await clients();
  else if (scenario === "goals") await (await import("./goals.ts")).goals(tmp, args.values);
  else throw new Error(`unknown scenario ${scenario}`);
} finally {
  await stopAll();
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}

async function clients() {
  const key = await backendKey(tmp);
  const rt = await runtime("hop", key);
  const { worker } = await post<{ worker: { worker_id: string } }>(
    `${rt.url}/v1/workers`,
    {},
    BEARER,
  );
  const path = `/v1/workers/${worker.worker_id}`;
  const auth = BEARER.authorization;
  const names = (args.values.only ?? "null,fetch,fetch-tuned,undici,node-http,pool").split(",");
  const targets: Target[] = [
    { name: "direct", url: rt.url + path, headers: BEARER, watch: { runtime: rt.pid } },
  ];
  await Deno.mkdir(`${tmp}/nginx`);
  const ng = await nginx(rt, `${tmp}/nginx`);
  targets.push({ name: "nginx", url: ng.url + path, watch: { proxy: ng.pid, runtime: rt.pid } });
  for (const n of names) {
    const f = await forwarder(n, rt, path, auth);
    targets.push({ name: `fwd:${n}`, url: `${f.url}/w`, watch: { proxy: f.pid, runtime: rt.pid } });
  }
  const res = await rotated(targets, 32, SECONDS, ROUNDS);
  const direct = res.get("direct")!;
  console.log(
    `\n| c=32, GET worker detail | req/s | × direct | proxy CPU µs/req | runtime CPU µs/req |`,
  );
  console.log(`|---|---|---|---|---|`);
  for (const t of targets) {
    const r = res.get(t.name)!;
    console.log(
      `| ${t.name} | ${r.rps.toFixed(0)} | ${(r.rps / direct.rps).toFixed(2)} | ${
        fmt(r.cpuUs.proxy)
      } | ${fmt(r.cpuUs.runtime)} |${r.non2xx || r.errors ? ` bad ${r.non2xx + r.errors}` : ""}`,
    );
  }
  console.log(`(wrk's own CPU: ${fmt(direct.cpuUs.wrk)} µs/req)`);
}
