/**
 * The goal rows of issue 15 this work targets, for the Backend of this tree ("after") and
 * of another tree ("before"), side by side in one run with the order rotated per round.
 * Each tree has its own runtime(s); tokens on (the runtimes trust the Backend key; the
 * direct baseline and nginx use the bearer token). The input row adds, for reference, each
 * tree's Backend with a bearer `token_ref` connection (`-bearer`): the same path without a
 * capability token minted and verified per mutation.
 * @module
 */
import {
  backend,
  backendKey,
  BEARER,
  forwarder,
  nginx,
  post,
  type Proc,
  runtime,
} from "./setup.ts";
import { fmt, median, rotated, type Target, wrk } from "./wrk.ts";

const MUTATING = { "x-yoi-request": "1", "content-type": "application/json" };

interface Tree {
  name: string;
  dir: string;
  rt: Proc;
  be: Proc;
  /** The same runtime through a Backend whose connection has a bearer `token_ref`. */
  beBearer: Proc;
  wid: string;
  embeddedWid: string;
  inputScript: string;
}

function remotes(list: { id: string; port: number }[]): string {
  return list.map((r) =>
    `[[runtimes.remote]]\nid = "${r.id}"\nendpoint = "http://127.0.0.1:${r.port}"\n`
  ).join("\n");
}

async function luaInputs(file: string, paths: string[]) {
  await Deno.writeTextFile(
    file,
    `local paths = {${paths.map((p) => `"${p}"`).join(",")}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", paths[(i % #paths) + 1], nil, '{"text":"hi"}')
end
`,
  );
}

async function tree(name: string, dir: string, tmp: string, keyFile: string): Promise<Tree> {
  const state = `${tmp}/${name}`;
  await Deno.mkdir(state, { recursive: true });
  await Deno.copyFile(keyFile, `${state}/backend-key`);
  await Deno.chmod(`${state}/backend-key`, 0o600);
  const key = await backendKey(state, dir);
  const rt = await runtime("a", key, dir);
  const be = await backend(state, remotes([{ id: "a", port: rt.port }]), dir);
  await Deno.mkdir(`${state}-bearer`);
  await Deno.copyFile(keyFile, `${state}-bearer/backend-key`);
  await Deno.chmod(`${state}-bearer/backend-key`, 0o600);
  const beBearer = await backend(
    `${state}-bearer`,
    remotes([{ id: "a", port: rt.port }]) + `token_ref = "env:YOI_HOP_TOKEN"\n`,
    dir,
  );
  const made = await post<{ worker: { worker_id: string } }>(`${rt.url}/v1/workers`, {}, BEARER);
  const emb = await post<{ worker: { worker_id: string } }>(
    `${be.url}/api/runtimes/embedded/workers`,
    {},
    MUTATING,
  );
  const inputs: string[] = [];
  for (let i = 0; i < 256; i++) {
    const w = await post<{ worker: { worker_id: string } }>(`${rt.url}/v1/workers`, {}, BEARER);
    inputs.push(w.worker.worker_id);
  }
  const inputScript = `${tmp}/${name}-input.lua`;
  await luaInputs(inputScript, inputs.map((w) => `/api/runtimes/a/workers/${w}/input`));
  await luaInputs(`${inputScript}.direct`, inputs.map((w) => `/v1/workers/${w}/input`));
  return {
    name,
    dir,
    rt,
    be,
    beBearer,
    wid: made.worker.worker_id,
    embeddedWid: emb.worker.worker_id,
    inputScript,
  };
}

export async function goals(tmp: string, opts: Record<string, unknown>): Promise<void> {
  const seconds = Number(opts.seconds ?? 4);
  const rounds = Number(opts.rounds ?? 3);
  const beforeDir = String(opts.before ?? "");
  if (!beforeDir) throw new Error("goals needs --before DIR");
  const only = new Set(String(opts.only ?? "proxy,c1,input,embedded,fanout").split(","));
  const here = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
  await Deno.mkdir(`${tmp}/key`);
  await backendKey(`${tmp}/key`, here);
  const keyFile = `${tmp}/key/backend-key`;
  const trees = [
    await tree("before", beforeDir, tmp, keyFile),
    await tree("after", here, tmp, keyFile),
  ];
  await Deno.mkdir(`${tmp}/nginx`);
  const after = trees[1];
  const ng = await nginx(after.rt, `${tmp}/nginx`);
  const out: string[] = [];

  if (only.has("proxy")) {
    const targets: Target[] = [
      {
        name: "direct",
        url: `${after.rt.url}/v1/workers/${after.wid}`,
        headers: BEARER,
        watch: { runtime: after.rt.pid },
      },
      {
        name: "nginx",
        url: `${ng.url}/v1/workers/${after.wid}`,
        watch: { proxy: ng.pid, runtime: after.rt.pid },
      },
      ...trees.map((t) => ({
        name: t.name,
        url: `${t.be.url}/api/runtimes/a/workers/${t.wid}`,
        watch: { proxy: t.be.pid, runtime: t.rt.pid },
      })),
    ];
    // Anchors: what `Deno.serve` alone costs answering bytes (`fwd:null`), and `Deno.serve` +
    // this tree's pool forwarding the same GET without Hono, guards or the registry
    // (`fwd:pool`): the floor under the Backend's own work on this platform.
    for (const client of ["null", "pool"]) {
      const f = await forwarder(client, after.rt, `/v1/workers/${after.wid}`, BEARER.authorization);
      targets.push({
        name: `fwd:${client}`,
        url: `${f.url}/w`,
        watch: { proxy: f.pid, runtime: after.rt.pid },
      });
    }
    const r = await rotated(targets, 32, seconds, rounds);
    const ngx = r.get("nginx")!;
    out.push(
      `\n| proxy c=32 GET worker detail | req/s | × nginx | proxy CPU µs/req | runtime CPU µs/req |`,
      `|---|---|---|---|---|`,
    );
    for (const t of targets) {
      const x = r.get(t.name)!;
      out.push(
        `| ${t.name} | ${x.rps.toFixed(0)} | ${(x.rps / ngx.rps).toFixed(2)} | ${
          fmt(x.cpuUs.proxy)
        } | ${fmt(x.cpuUs.runtime)} |`,
      );
    }
  }

  if (only.has("c1")) {
    const targets: Target[] = trees.flatMap((t): Target[] => [
      {
        name: `direct-${t.name}`,
        url: `${t.rt.url}/v1/workers/${t.wid}`,
        headers: BEARER,
        watch: {},
      },
      { name: t.name, url: `${t.be.url}/api/runtimes/a/workers/${t.wid}`, watch: {} },
    ]);
    const r = await rotated(targets, 1, seconds, rounds);
    out.push(
      `\n| proxy c=1 p50 | direct p50 ms | Backend p50 ms | added ms |`,
      `|---|---|---|---|`,
    );
    for (const t of trees) {
      const d = r.get(`direct-${t.name}`)!.p50, b = r.get(t.name)!.p50;
      out.push(`| ${t.name} | ${d.toFixed(3)} | ${b.toFixed(3)} | ${(b - d).toFixed(3)} |`);
    }
  }

  if (only.has("input")) {
    const targets: Target[] = trees.flatMap((t): Target[] => [
      {
        name: `direct-${t.name}`,
        url: t.rt.url,
        headers: { ...BEARER, "content-type": "application/json" },
        script: `${t.inputScript}.direct`,
        watch: { runtime: t.rt.pid },
      },
      {
        name: t.name,
        url: t.be.url,
        headers: MUTATING,
        script: t.inputScript,
        watch: { proxy: t.be.pid, runtime: t.rt.pid },
      },
      {
        name: `${t.name}-bearer`,
        url: t.beBearer.url,
        headers: MUTATING,
        script: t.inputScript,
        watch: { proxy: t.beBearer.pid, runtime: t.rt.pid },
      },
    ]);
    const r = await rotated(targets, 8, seconds, rounds);
    out.push(
      `\n| input c=8 POST input | direct req/s | Backend req/s | × direct | Backend CPU µs/req | runtime CPU µs/req (via Backend) | non-2xx |`,
      `|---|---|---|---|---|---|---|`,
    );
    for (const t of trees) {
      const d = r.get(`direct-${t.name}`)!;
      for (const name of [t.name, `${t.name}-bearer`]) {
        const b = r.get(name)!;
        out.push(
          `| ${name} | ${d.rps.toFixed(0)} | ${b.rps.toFixed(0)} | ${
            (b.rps / d.rps).toFixed(2)
          } | ${fmt(b.cpuUs.proxy)} | ${fmt(b.cpuUs.runtime)} | ${b.non2xx + d.non2xx} |`,
        );
      }
    }
  }

  if (only.has("embedded")) {
    const targets: Target[] = [
      {
        name: "direct",
        url: `${after.rt.url}/v1/workers/${after.wid}`,
        headers: BEARER,
        watch: { runtime: after.rt.pid },
      },
      ...trees.map((t) => ({
        name: t.name,
        url: `${t.be.url}/api/runtimes/embedded/workers/${t.embeddedWid}`,
        watch: { proxy: t.be.pid },
      })),
    ];
    const r = await rotated(targets, 32, seconds, rounds);
    const d = r.get("direct")!;
    out.push(
      `\n| embedded c=32 GET worker | req/s | × direct | Backend CPU µs/req |`,
      `|---|---|---|---|`,
    );
    for (const t of targets) {
      const x = r.get(t.name)!;
      out.push(
        `| ${t.name} | ${x.rps.toFixed(0)} | ${(x.rps / d.rps).toFixed(2)} | ${
          fmt(x.cpuUs.proxy ?? x.cpuUs.runtime)
        } |`,
      );
    }
  }

  if (only.has("fanout")) out.push(...await fanout(tmp, beforeDir, here, keyFile, rounds));
  console.log(out.join("\n"));
}

/** N=1 vs N=32 runtimes × 50 workers, and N=32 plus a hung runtime (deadline 1000 ms). */
async function fanout(
  tmp: string,
  beforeDir: string,
  here: string,
  keyFile: string,
  rounds: number,
): Promise<string[]> {
  const N = 32, WORKERS = 50, DEADLINE = 1000;
  const hung = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    try {
      for await (const c of hung) held.push(c);
    } catch { /* closed */ }
  })();
  const rows: string[] = [
    `\n| fan-out GET /api/workers (c=1) | N=1 p50 ms | N=32 p50 ms | N32/N1 | Backend CPU µs per listed worker (N=32) | N=32+hung, over deadline ms |`,
    `|---|---|---|---|---|---|`,
  ];
  const sets: { name: string; n1: Proc; n32: Proc; hung: Proc }[] = [];
  for (const [name, dir] of [["before", beforeDir], ["after", here]]) {
    const state = `${tmp}/fan-${name}`;
    await Deno.mkdir(state, { recursive: true });
    const key = await backendKey(`${tmp}/key`, here);
    const rts: Proc[] = [];
    for (let i = 0; i < N; i += 8) {
      rts.push(
        ...await Promise.all(
          Array.from({ length: Math.min(8, N - i) }, (_, k) => runtime(`fan-${i + k}`, key, dir)),
        ),
      );
    }
    for (const rt of rts) {
      await Promise.all(
        Array.from({ length: WORKERS }, () => post(`${rt.url}/v1/workers`, {}, BEARER)),
      );
    }
    const list = rts.map((r, i) => ({ id: `fan-${i}`, port: r.port }));
    const mk = async (sub: string, cfg: string, extra: string[] = []) => {
      await Deno.mkdir(`${state}/${sub}`, { recursive: true });
      await Deno.copyFile(keyFile, `${state}/${sub}/backend-key`);
      await Deno.chmod(`${state}/${sub}/backend-key`, 0o600);
      return await backend(`${state}/${sub}`, cfg, dir, extra);
    };
    const n1 = await mk("n1", remotes(list.slice(0, 1)));
    const n32 = await mk("n32", remotes(list));
    const withHung = remotes(list) +
      `\n[[runtimes.remote]]\nid = "hung"\nendpoint = "http://127.0.0.1:${hung.addr.port}"\n`;
    const h = await mk("hung", withHung, ["--fanout-deadline-ms", String(DEADLINE)]);
    sets.push({ name, n1, n32, hung: h });
  }
  const targets: Target[] = sets.flatMap((s) => [
    { name: `${s.name}-n1`, url: `${s.n1.url}/api/workers`, watch: { proxy: s.n1.pid } },
    { name: `${s.name}-n32`, url: `${s.n32.url}/api/workers`, watch: { proxy: s.n32.pid } },
  ]);
  const r = await rotated(targets, 1, 4, rounds);
  for (const s of sets) {
    const over: number[] = [];
    for (let i = 0; i < 3 * rounds; i++) {
      const t0 = performance.now();
      const res = await fetch(`${s.hung.url}/api/workers`);
      await res.arrayBuffer();
      over.push(performance.now() - t0 - DEADLINE);
    }
    const a = r.get(`${s.name}-n1`)!, b = r.get(`${s.name}-n32`)!;
    rows.push(
      `| ${s.name} | ${a.p50.toFixed(2)} | ${b.p50.toFixed(2)} | ${(b.p50 / a.p50).toFixed(2)} | ${
        fmt(b.cpuUs.proxy / (N * WORKERS))
      } | ${median(over).toFixed(1)} (max ${Math.max(...over).toFixed(1)}) |`,
    );
  }
  hung.close();
  for (const c of held) {
    try {
      c.close();
    } catch { /* closed */ }
  }
  void wrk;
  return rows;
}
