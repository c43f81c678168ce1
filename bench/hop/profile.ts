/**
 * A V8 CPU profile of the Backend (and its runtime) under `wrk` load, summarised with
 * `bench/cpuprofile.ts`: where a proxied request's time goes (issue 15).
 *
 *   deno run -A bench/hop/profile.ts proxy|input|embedded|fanout [--seconds 6] [--top 30]
 *
 * Tokens on (the runtime trusts the Backend key; `--bearer`: the connections use the bearer
 * token instead). `fanout` lists `/api/workers` at c=1 over 32 runtimes with 50 workers each.
 * @module
 */
import { parseArgs } from "node:util";
import { renderProfile, summarizeProfile } from "../cpuprofile.ts";
import { backend, backendKey, BEARER, post, type Proc, runtime, stopAll } from "./setup.ts";
import { wrk } from "./wrk.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "6" },
    top: { type: "string", default: "30" },
    bearer: { type: "boolean", default: false },
  },
  allowPositionals: true,
});
const scenario = args.positionals[0] ?? "proxy";
const tmp = await Deno.makeTempDir({ prefix: "yoi-hop-prof-" });
const prof = (who: string) => [`--cpu-prof`, `--cpu-prof-dir=${tmp}/${who}`];
const remote = (rts: Proc[]) =>
  rts.map((r, i) =>
    `[[runtimes.remote]]\nid = "${rts.length === 1 ? "a" : `fan-${i}`}"\n` +
    `endpoint = "http://127.0.0.1:${r.port}"\n` +
    (args.values.bearer ? `token_ref = "env:YOI_HOP_TOKEN"\n` : "")
  ).join("\n");
try {
  const key = await backendKey(tmp);
  const fan = scenario === "fanout";
  const rts: Proc[] = [];
  for (let i = 0; i < (fan ? 32 : 1); i++) {
    rts.push(await runtime(fan ? `fan-${i}` : "a", key, undefined, [], fan ? [] : prof("runtime")));
  }
  const be = await backend(tmp, remote(rts), undefined, [], prof("backend"));
  const make = (url: string) => post<{ worker: { worker_id: string } }>(url, {}, BEARER);
  let target;
  if (fan) {
    for (const rt of rts) {
      await Promise.all(Array.from({ length: 50 }, () => make(`${rt.url}/v1/workers`)));
    }
    const watch: Record<string, number> = { backend: be.pid };
    rts.forEach((r, i) => watch[`rt${i}`] = r.pid);
    target = { name: "fanout", url: `${be.url}/api/workers`, watch };
  } else if (scenario === "input") {
    const paths: string[] = [];
    for (let i = 0; i < 256; i++) {
      paths.push(
        `/api/runtimes/a/workers/${
          (await make(`${rts[0].url}/v1/workers`)).worker.worker_id
        }/input`,
      );
    }
    await Deno.writeTextFile(
      `${tmp}/in.lua`,
      `local paths = {${paths.map((p) => `"${p}"`).join(",")}}\nlocal i = 0\n` +
        `request = function()\n  i = i + 1\n` +
        `  return wrk.format("POST", paths[(i % #paths) + 1], nil, '{"text":"hi"}')\nend\n`,
    );
    target = {
      name: "input",
      url: be.url,
      script: `${tmp}/in.lua`,
      headers: { "x-yoi-request": "1", "content-type": "application/json" },
      watch: { backend: be.pid, runtime: rts[0].pid },
    };
  } else if (scenario === "embedded") {
    const w = await post<{ worker: { worker_id: string } }>(
      `${be.url}/api/runtimes/embedded/workers`,
      {},
      { "x-yoi-request": "1", "content-type": "application/json" },
    );
    target = {
      name: "embedded",
      url: `${be.url}/api/runtimes/embedded/workers/${w.worker.worker_id}`,
      watch: { backend: be.pid },
    };
  } else {
    const w = await make(`${rts[0].url}/v1/workers`);
    target = {
      name: "proxy",
      url: `${be.url}/api/runtimes/a/workers/${w.worker.worker_id}`,
      watch: { backend: be.pid, runtime: rts[0].pid },
    };
  }
  const c = fan ? 1 : scenario === "input" ? 8 : 32;
  const w = await wrk(target, c, Number(args.values.seconds));
  console.log(
    `${scenario} c=${c}: ${w.rps.toFixed(0)} req/s, CPU µs/req ${JSON.stringify(w.cpuUs)}`,
  );
  await stopAll();
  for (const who of ["backend", "runtime"]) {
    let file: string | undefined;
    try {
      for (const f of Deno.readDirSync(`${tmp}/${who}`)) file = `${tmp}/${who}/${f.name}`;
    } catch { /* not profiled */ }
    if (!file) continue;
    // Kept for a closer look (`bench/cpuprofile.ts`, or Chrome's DevTools).
    const keep = new URL(`../results/profile/hop-${scenario}-${who}.cpuprofile`, import.meta.url);
    await Deno.mkdir(new URL(".", keep), { recursive: true });
    await Deno.copyFile(file, keep);
    console.log(`(profile kept: bench/results/profile/hop-${scenario}-${who}.cpuprofile)`);
    const s = summarizeProfile(JSON.parse(await Deno.readTextFile(file)), Number(args.values.top));
    console.log(`\n## ${who}\n${renderProfile(s)}`);
  }
} finally {
  await stopAll();
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
