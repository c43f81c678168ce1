/**
 * CPU per request of the client side alone, in this process, against one runtime process
 * (c=32 in flight): the pool, `fetch`, and a floor — raw `Deno.connect` sockets writing
 * fixed request bytes and reading one chunk, no parsing. Rounds alternate the three.
 *
 *   deno run -A bench/hop/pool_cost.ts [rounds]
 * @module
 */
import { HttpPool } from "../../backend/registry/http_pool.ts";
import { backendKey, BEARER, post, runtime, stopAll } from "./setup.ts";
import { median } from "./wrk.ts";

const tmp = await Deno.makeTempDir();
try {
  const rt = await runtime("hop", await backendKey(tmp));
  const { worker } = await post<{ worker: { worker_id: string } }>(
    `${rt.url}/v1/workers`,
    {},
    BEARER,
  );
  const path = `/v1/workers/${worker.worker_id}`;
  const pool = new HttpPool({ hostname: "127.0.0.1", port: rt.port });
  const head = `accept: application/json\r\nauthorization: ${BEARER.authorization}\r\n`;
  const raw = new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1:${rt.port}\r\n${head}\r\n`,
  );
  const socks = await Promise.all(
    Array.from({ length: 32 }, () => Deno.connect({ hostname: "127.0.0.1", port: rt.port })),
  );
  const bufs = socks.map(() => new Uint8Array(16384));
  const all: Record<string, (i: number) => Promise<unknown>> = {
    pool: () => pool.request({ method: "GET", path, headers: head, timeoutMs: 5000 }),
    fetch: async () => (await fetch(rt.url + path, { headers: BEARER })).arrayBuffer(),
    floor: async (i) => {
      await socks[i].write(raw);
      await socks[i].read(bufs[i]);
    },
  };
  const cpu = () => {
    const f = Deno.readTextFileSync("/proc/self/stat").split(" ");
    return (Number(f[13]) + Number(f[14])) * 10;
  };
  const N = 8000;
  const only = Deno.args[1]?.split(",");
  const kinds = Object.fromEntries(Object.entries(all).filter(([k]) => !only || only.includes(k)));
  const out: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  const rounds = Number(Deno.args[0] ?? 5);
  for (let r = 0; r < rounds + 1; r++) {
    for (const [k, fn] of Object.entries(kinds)) {
      let next = 0;
      const c0 = cpu();
      await Promise.all(socks.map(async (_, i) => {
        while (next++ < N) await fn(i);
      }));
      if (r > 0) out[k].push((cpu() - c0) * 1000 / N);
    }
  }
  for (const [k, v] of Object.entries(out)) {
    console.log(
      `${k}: client CPU µs/req median ${median(v).toFixed(1)} (${
        v.map((x) => x.toFixed(0)).join(" ")
      })`,
    );
  }
  for (const s of socks) s.close();
  pool.close();
} finally {
  await stopAll();
  await Deno.remove(tmp, { recursive: true });
}
