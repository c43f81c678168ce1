/**
 * The Backend's own work per proxied GET, this tree against another, side by side in one
 * process (issue 15): both trees' workspaces (`createWorkspace`: `/api`, guards, pages) call
 * the same remote runtime process; 32 loops drive `app.fetch` of `GET` worker detail, the
 * trees alternate per round (order flipped each round) and the process's own CPU per request
 * (utime+stime) is compared per round. No `Deno.serve`, no load client, no other process
 * measured: on a shared machine this pairs the two sides far more tightly than two server
 * processes can be, so a change of a few µs shows.
 *
 *   deno run -A bench/hop/ab.ts --before DIR [--rounds 8] [--requests 20000]
 *
 * DIR is another checkout (e.g. `git archive main | tar -x -C DIR`, then `deno install` there).
 * @module
 */
import { parseArgs } from "node:util";
import { createWorkspace } from "../../workspace.ts";
import { backendKey, BEARER, post, runtime, stopAll } from "./setup.ts";
import { median } from "./wrk.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    before: { type: "string" },
    rounds: { type: "string", default: "8" },
    requests: { type: "string", default: "20000" },
  },
}).values;
if (!args.before) throw new Error("ab needs --before DIR");
const ROUNDS = Number(args.rounds);
const N = Number(args.requests);

interface App {
  app: { fetch(r: Request): Response | Promise<Response> };
  close(): Promise<void>;
}

const cpuMs = () => {
  const f = Deno.readTextFileSync("/proc/self/stat").split(" ");
  return (Number(f[13]) + Number(f[14])) * 10; // clock ticks of 10 ms
};

const tmp = await Deno.makeTempDir({ prefix: "yoi-hop-ab-" });
const apps: Record<string, App> = {};
try {
  const key = await backendKey(tmp);
  const rt = await runtime("a", key);
  const made = await post<{ worker: { worker_id: string } }>(`${rt.url}/v1/workers`, {}, BEARER);
  const cfg = `[[runtimes.remote]]\nid = "a"\nendpoint = "http://127.0.0.1:${rt.port}"\n`;
  const trees: Record<string, string> = {
    before: `${args.before.replace(/\/$/, "")}/workspace.ts`,
    after: new URL("../../workspace.ts", import.meta.url).href,
  };
  for (const [name, module] of Object.entries(trees)) {
    const dir = `${tmp}/${name}`;
    await Deno.mkdir(dir);
    await Deno.copyFile(`${tmp}/backend-key`, `${dir}/backend-key`);
    await Deno.chmod(`${dir}/backend-key`, 0o600);
    await Deno.writeTextFile(`${dir}/workspace-backend.local.toml`, cfg);
    const create: typeof createWorkspace = name === "after"
      ? createWorkspace
      : (await import(module)).createWorkspace;
    apps[name] = await create({
      stateDir: dir,
      port: 8787,
      embeddedStore: "memory",
      healthIntervalMs: 0,
    });
  }
  const url = `http://127.0.0.1:8787/api/runtimes/a/workers/${made.worker.worker_id}`;
  const init = { headers: { host: "127.0.0.1:8787" } };
  const out: Record<string, number[]> = { before: [], after: [] };
  // Round 0 warms both up (JIT, connections) and is not counted.
  for (let r = 0; r <= ROUNDS; r++) {
    for (const name of r % 2 ? ["after", "before"] : ["before", "after"]) {
      const { app } = apps[name];
      let next = 0;
      const c0 = cpuMs();
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next++ < N) {
          const res = await app.fetch(new Request(url, init));
          if (res.status !== 200) throw new Error(`${name}: ${res.status}`);
          await res.arrayBuffer();
        }
      }));
      if (r > 0) out[name].push((cpuMs() - c0) * 1000 / N);
    }
  }
  const fmt = (v: number[]) => v.map((x) => x.toFixed(1)).join(" ");
  for (const [name, v] of Object.entries(out)) {
    console.log(`${name}: ${median(v).toFixed(1)} µs CPU/request (rounds: ${fmt(v)})`);
  }
  const ratios = out.after.map((a, i) => a / out.before[i]);
  console.log(`after ÷ before per round: median ${median(ratios).toFixed(2)} (${fmt(ratios)})`);
  console.log("(includes building each Request and reading each answer in this process)");
} finally {
  for (const a of Object.values(apps)) await a.close();
  await stopAll();
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
