/**
 * One candidate for the Backend's REST hop, as a minimal forwarder process: `Deno.serve`
 * answers `GET /w` by calling `GET <upstream path>` on the runtime with the named HTTP
 * client and returning the body bytes. Measured side by side by `bench/hop/measure.ts`
 * (issue 15): the forwarder's CPU per request is the client's cost plus a fixed
 * `Deno.serve` floor (the `null` candidate answers without calling anyone).
 *
 *   deno run -A bench/hop/forwarder.ts --client fetch|fetch-tuned|undici|node-http|pool|null \
 *     --upstream 127.0.0.1:PORT --path /v1/workers/ID --auth "Bearer …"
 * @module
 */
import { parseArgs } from "node:util";
import { HttpPool } from "../../backend/registry/http_pool.ts";
import { concatBytes } from "../../shared/bytes.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    client: { type: "string" },
    upstream: { type: "string" },
    path: { type: "string" },
    auth: { type: "string", default: "" },
    pool: { type: "string", default: "64" },
  },
}).values;
const [host, portText] = args.upstream!.split(":");
const port = Number(portText);
const origin = `http://${host}:${port}`;
const path = args.path!;
const poolSize = Number(args.pool);
const auth: Record<string, string> = args.auth ? { authorization: args.auth } : {};
const headers = { accept: "application/json", ...auth };
const JSON_TYPE = { "content-type": "application/json" };

type Call = () => Promise<Uint8Array | string>;

async function makeCall(kind: string): Promise<Call> {
  switch (kind) {
    case "null": {
      const body = new TextEncoder().encode(JSON.stringify({ worker: { ok: true } }));
      return () => Promise.resolve(body);
    }
    case "fetch": {
      const url = origin + path;
      return async () => {
        const r = await fetch(url, { headers, redirect: "manual" });
        return new Uint8Array(await r.arrayBuffer());
      };
    }
    case "fetch-tuned": {
      const client = Deno.createHttpClient({
        http1: true,
        http2: false,
        poolMaxIdlePerHost: poolSize,
      });
      const url = origin + path;
      return async () => {
        const r = await fetch(url, { headers, redirect: "manual", client });
        return new Uint8Array(await r.arrayBuffer());
      };
    }
    case "undici": {
      const { Pool } = await import("undici");
      const pool = new Pool(origin, { connections: poolSize, pipelining: 1 });
      return async () => {
        const r = await pool.request({ path, method: "GET", headers });
        return new Uint8Array(await r.body.arrayBuffer());
      };
    }
    case "node-http": {
      const http = await import("node:http");
      const agent = new http.Agent({ keepAlive: true, maxSockets: poolSize });
      return () =>
        new Promise((resolve, reject) => {
          const req = http.request({ host, port, path, headers, agent }, (res) => {
            const chunks: Uint8Array[] = [];
            res.on("data", (c: Uint8Array) => chunks.push(c));
            res.on("end", () => resolve(concatBytes(chunks)));
            res.on("error", reject);
          });
          req.on("error", reject);
          req.end();
        });
    }
    case "pool": {
      const pool = new HttpPool({ hostname: host, port, maxConnections: poolSize });
      const head = `accept: application/json\r\n` +
        (args.auth ? `authorization: ${args.auth}\r\n` : "");
      return async () => {
        const r = await pool.request({ method: "GET", path, headers: head, timeoutMs: 5000 });
        return r.body;
      };
    }
  }
  throw new Error(`unknown client ${kind}`);
}

const call = await makeCall(args.client!);
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: (a) => console.log(`listening ${a.port}`),
}, async () => new Response(await call() as BodyInit, { headers: JSON_TYPE }));
