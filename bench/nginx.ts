/**
 * Anchor: nginx as a plain reverse proxy in front of one runtime — 1 worker
 * process, upstream keepalive 64, HTTP/1.1 to the upstream, access log off —
 * with its config, pid file and temp folders in a temp dir (never the system
 * service). Installed from Debian's `nginx` package with apt-get when missing
 * and running as root; otherwise its rows are skipped with one line saying why.
 * @module
 */
import { stopChild } from "../tests/support/spawn.ts";
import { childPids } from "./proc_stat.ts";
import { freePort, type Procs, sleep, type Stoppable } from "./procs.ts";

const CANDIDATES = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"];
/** Bound on `apt-get install nginx` (download + unpack on a slow mirror). */
const INSTALL_TIMEOUT_MS = 240_000;
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;

async function exists(p: string): Promise<boolean> {
  try {
    return (await Deno.stat(p)).isFile;
  } catch {
    return false;
  }
}

async function findBinary(): Promise<string | null> {
  for (const p of CANDIDATES) if (await exists(p)) return p;
  return null;
}

async function run(cmd: string, args: string[], timeoutMs: number): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * The nginx binary, installing the Debian package when it is missing and we
 * are root with apt-get; otherwise `{skip}` with the reason.
 */
export async function ensureNginx(): Promise<{ path: string } | { skip: string }> {
  const found = await findBinary();
  if (found) return { path: found };
  if (Deno.uid() !== 0) return { skip: "nginx is not installed and the bench is not root" };
  if (!(await exists("/usr/bin/apt-get"))) return { skip: "nginx is not installed (no apt-get)" };
  console.error("  installing nginx (Debian package) with apt-get …");
  const install = ["install", "-y", "-qq", "--no-install-recommends", "nginx"];
  let ok = await run("apt-get", install, INSTALL_TIMEOUT_MS);
  if (!ok) {
    ok = await run("apt-get", ["update", "-qq"], INSTALL_TIMEOUT_MS) &&
      await run("apt-get", install, INSTALL_TIMEOUT_MS);
  }
  const path = await findBinary();
  return path ? { path } : { skip: "apt-get install nginx failed" };
}

/** The nginx config of the anchor (exported for the test of its shape). */
export function nginxConfig(dir: string, listenPort: number, upstreamPort: number): string {
  return `# yoi bench anchor: a plain reverse proxy
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  upstream runtime {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://runtime;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

export interface NginxAnchor extends Stoppable {
  url: string;
}

async function accepts(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/** Starts nginx in front of `upstreamPort`; stopped by the run's cleanup. */
export async function startNginx(
  procs: Procs,
  binary: string,
  upstreamPort: number,
): Promise<NginxAnchor> {
  const dir = await procs.tempDir("yoi-bench-nginx-");
  await Deno.mkdir(`${dir}/tmp`, { recursive: true });
  if (Deno.uid() === 0) await Deno.chmod(dir, 0o755); // the worker runs as nobody
  for (let attempt = 0;; attempt++) {
    const port = freePort();
    await Deno.writeTextFile(`${dir}/nginx.conf`, nginxConfig(dir, port, upstreamPort));
    const child = new Deno.Command(binary, {
      args: ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    const stderr = new Response(child.stderr).text();
    const end = performance.now() + START_TIMEOUT_MS;
    while (!exited && performance.now() < end && !(await accepts(port))) await sleep(20);
    if (!exited && await accepts(port)) {
      const anchor: NginxAnchor = {
        url: `http://127.0.0.1:${port}`,
        pids: () => [child.pid, ...childPids(child.pid)],
        stop: async () => {
          if (exited) return;
          await stopChild(child, STOP_GRACE_MS);
          await status;
          await stderr.catch(() => "");
        },
      };
      procs.adopt(anchor);
      return anchor;
    }
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await status;
    const err = (await stderr.catch(() => "")) +
      (await Deno.readTextFile(`${dir}/error.log`).catch(() => ""));
    if (attempt >= 2) throw new Error(`nginx did not start: ${err.trim().slice(0, 500)}`);
  }
}
