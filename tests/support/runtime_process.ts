/**
 * Starts real worker-runtime processes on 127.0.0.1 for tests and benchmarks.
 * Port 0 is passed and the bound port is read from the process's first line,
 * so parallel tests never race for a port.
 * @module
 */

import { assertNoUnhandledRejection, spawnListening } from "./spawn.ts";

const MAIN = new URL("../../runtime/main.ts", import.meta.url).pathname;

export interface RuntimeProcessOptions {
  id?: string;
  /** Fixed port (e.g. to restart on the same port); default 0 = any free port. */
  port?: number;
  store?: "fs" | "memory";
  dataDir?: string;
  /** Bearer token; passed through the environment, never on the command line. */
  token?: string;
  /** Runtime config file text (TOML); written to a temp file. */
  config?: string;
  displayName?: string;
  extraArgs?: string[];
  /** Flags for `deno run` itself, placed before the script (e.g. `--cpu-prof`). */
  denoArgs?: string[];
  /** Extra environment for the process (e.g. an API key a profile's `api_key_ref` names). */
  env?: Record<string, string>;
}

export class RuntimeProcess {
  readonly child: Deno.ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly id: string;
  #output: string[];
  #tmp: string[];
  #done: Promise<void>;

  private constructor(
    child: Deno.ChildProcess,
    port: number,
    id: string,
    output: string[],
    tmp: string[],
    done: Promise<void>,
  ) {
    this.child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.id = id;
    this.#output = output;
    this.#tmp = tmp;
    this.#done = done;
  }

  /** Everything the process printed so far (stdout and stderr). */
  get output(): string {
    return this.#output.join("");
  }

  static async start(opts: RuntimeProcessOptions = {}): Promise<RuntimeProcess> {
    const id = opts.id ?? "test";
    const tmp: string[] = [];
    const args = [
      "run",
      "-A",
      ...(opts.denoArgs ?? []),
      MAIN,
      "--id",
      id,
      "--listen",
      `127.0.0.1:${opts.port ?? 0}`,
    ];
    args.push("--store", opts.store ?? "memory");
    if (opts.dataDir) args.push("--data-dir", opts.dataDir);
    if (opts.displayName) args.push("--display-name", opts.displayName);
    const env: Record<string, string> = { ...opts.env };
    if (opts.token !== undefined) {
      env.YOI_TEST_RUNTIME_TOKEN = opts.token;
      args.push("--token-env", "YOI_TEST_RUNTIME_TOKEN");
    }
    if (opts.config !== undefined) {
      const f = await Deno.makeTempFile({ suffix: ".toml" });
      await Deno.writeTextFile(f, opts.config);
      tmp.push(f);
      args.push("--config", f);
    }
    args.push(...(opts.extraArgs ?? []));
    const { child, port, output, done } = await spawnListening("runtime", args, env, 20_000);
    return new RuntimeProcess(child, port, id, output, tmp, done);
  }

  /** Starts a runtime on a fixed port, retrying while the old process's socket lingers. */
  static async restartOnPort(
    opts: RuntimeProcessOptions & { port: number },
  ): Promise<RuntimeProcess> {
    for (let i = 0;; i++) {
      try {
        return await RuntimeProcess.start(opts);
      } catch (e) {
        if (i >= 20) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /**
   * Sends a signal and waits for the exit status. Throws if the process ever
   * logged an unhandled promise rejection (its last-resort handler fired).
   */
  async kill(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.child.kill(signal);
    } catch { /* already gone */ }
    const status = await this.child.status;
    await this.#done; // so `output` holds every line the process wrote
    for (const f of this.#tmp) await Deno.remove(f).catch(() => {});
    assertNoUnhandledRejection(`runtime ${this.id}`, this.output);
    return status;
  }

  async [Symbol.asyncDispose]() {
    await this.kill("SIGKILL");
  }
}

/** Headers for a runtime call with an optional bearer token. */
export function authHeaders(token?: string): HeadersInit {
  return token ? { authorization: `Bearer ${token}` } : {};
}
