/**
 * Processes for the REST-hop measurements (`bench/hop/`): a runtime that trusts a Backend
 * key (capability tokens on, the default of DESIGN §8) and also takes a bearer token for the
 * direct baseline, candidate forwarders, nginx, and Backends from this tree or another one
 * (the "before" tree: `git archive <commit>` unpacked somewhere).
 * @module
 */
import { spawnListening, stopChild } from "../../tests/support/spawn.ts";

export const TOKEN = "hop-bench-token-0123456789abcdef0123456789";
const HERE = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

export interface Proc {
  pid: number;
  port: number;
  url: string;
  stop(): Promise<void>;
}

const procs = new Set<Proc>();

function track(child: Deno.ChildProcess, port: number, done?: Promise<unknown>): Proc {
  const p: Proc = {
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      procs.delete(p);
      await stopChild(child, 5000);
      await done;
    },
  };
  procs.add(p);
  return p;
}

export async function stopAll() {
  await Promise.all([...procs].map((p) => p.stop()));
}

/** Creates the Backend key in `stateDir` with `main.ts key show`; returns the public key. */
export async function backendKey(stateDir: string, tree = HERE): Promise<string> {
  const out = await new Deno.Command("deno", {
    args: ["run", "-A", `${tree}/main.ts`, "key", "show", "--state-dir", stateDir],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** A runtime process (memory store) trusting `key`, also accepting the bearer {@link TOKEN}. */
export async function runtime(
  id: string,
  key: string,
  tree = HERE,
  extra: string[] = [],
  denoArgs: string[] = [],
): Promise<Proc> {
  const args = [
    "run",
    "-A",
    ...denoArgs,
    `${tree}/runtime/main.ts`,
    "--id",
    id,
    "--listen",
    "127.0.0.1:0",
    "--store",
    "memory",
    "--token-env",
    "YOI_HOP_TOKEN",
    "--trust-key",
    key,
    "--max-workers",
    "100000",
    ...extra,
  ];
  const { child, port, done } = await spawnListening("runtime", args, {
    YOI_HOP_TOKEN: TOKEN,
  }, 30_000);
  return track(child, port, done);
}

/** A Backend process with its state folder (key already there) and config text. */
export async function backend(
  stateDir: string,
  config: string,
  tree = HERE,
  extra: string[] = [],
  denoArgs: string[] = [],
): Promise<Proc> {
  await Deno.writeTextFile(`${stateDir}/workspace-backend.local.toml`, config);
  const args = [
    "run",
    "-A",
    ...denoArgs,
    `${tree}/main.ts`,
    "--state-dir",
    stateDir,
    "--listen",
    "127.0.0.1:0",
    "--embedded-store",
    "memory",
    "--health-interval-ms",
    "0",
    ...extra,
  ];
  // A connection with `token_ref = "env:YOI_HOP_TOKEN"` uses the bearer token instead of
  // capability tokens (to tell the token cost apart from the rest).
  const { child, port, done } = await spawnListening("backend", args, {
    YOI_HOP_TOKEN: TOKEN,
  }, 30_000);
  return track(child, port, done);
}

/** A candidate forwarder (`bench/hop/forwarder.ts`). */
export async function forwarder(
  client: string,
  upstream: Proc,
  path: string,
  auth: string,
): Promise<Proc> {
  const child = new Deno.Command("deno", {
    args: [
      "run",
      "-A",
      `${HERE}/bench/hop/forwarder.ts`,
      "--client",
      client,
      "--upstream",
      `127.0.0.1:${upstream.port}`,
      "--path",
      path,
      "--auth",
      auth,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening (\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`forwarder ${client} exited`);
    text += value;
  }
  const port = Number(/listening (\d+)/.exec(text)![1]);
  const drain = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return track(child, port, drain);
}

/** nginx as a plain reverse proxy: 1 worker, keepalive 64 to the runtime, bearer added. */
export async function nginx(upstream: Proc, dir: string): Promise<Proc> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  const conf = `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream rt { server 127.0.0.1:${upstream.port}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://rt;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer ${TOKEN}";
    }
  }
}
`;
  await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
  const child = new Deno.Command("nginx", {
    args: ["-c", `${dir}/nginx.conf`, "-p", dir],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  for (let i = 0; i < 100; i++) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  // The master forks one worker: that is the process doing the proxying.
  const master = child.pid;
  let worker = master;
  for (let i = 0; i < 50 && worker === master; i++) {
    try {
      const kids = (await Deno.readTextFile(`/proc/${master}/task/${master}/children`)).trim();
      if (kids) worker = Number(kids.split(/\s+/)[0]);
    } catch { /* not yet */ }
    if (worker === master) await new Promise((r) => setTimeout(r, 50));
  }
  const p = track(child, port);
  return { ...p, pid: worker };
}

/** POSTs JSON with the bearer token; the parsed answer. */
export async function post<T>(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export const BEARER = { authorization: `Bearer ${TOKEN}` };
