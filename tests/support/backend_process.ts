/**
 * Starts a real Workspace Backend process (what `deno task dev` runs) on a
 * free 127.0.0.1 port with its own temp state folder.
 * @module
 */
import { assertNoUnhandledRejection, spawnListening } from "./spawn.ts";
import { WorkspaceClient } from "../../shared/client.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export interface BackendProcessOptions {
  /** Config file text written to `<stateDir>/workspace-backend.local.toml`; omit for none. */
  config?: string;
  /** Existing state folder (default: a new temp dir, removed on kill). */
  stateDir?: string;
  /** Extra environment, e.g. the variables that `token_ref = "env:NAME"` entries name. */
  env?: Record<string, string>;
  port?: number;
  adminToken?: string;
  embeddedConfig?: string;
  embeddedStore?: "fs" | "memory";
  extraArgs?: string[];
  /** Flags for `deno run` itself, placed before the script (e.g. `--cpu-prof`). */
  denoArgs?: string[];
}

export class BackendProcess {
  readonly child: Deno.ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly stateDir: string;
  readonly client: WorkspaceClient;
  #output: string[];
  #ownsState: boolean;
  #done: Promise<void> = Promise.resolve();

  private constructor(
    child: Deno.ChildProcess,
    port: number,
    stateDir: string,
    output: string[],
    ownsState: boolean,
    adminToken?: string,
  ) {
    this.child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.stateDir = stateDir;
    this.#output = output;
    this.#ownsState = ownsState;
    this.client = new WorkspaceClient(this.url, { adminToken });
  }

  /** Everything the process printed so far (stdout and stderr). */
  get output(): string {
    return this.#output.join("");
  }

  static async start(opts: BackendProcessOptions = {}): Promise<BackendProcess> {
    const ownsState = !opts.stateDir;
    const stateDir = opts.stateDir ?? await Deno.makeTempDir({ prefix: "yoi-backend-" });
    if (opts.config !== undefined) {
      await Deno.writeTextFile(`${stateDir}/workspace-backend.local.toml`, opts.config);
    }
    const args = [
      "run",
      "-A",
      ...(opts.denoArgs ?? []),
      MAIN,
      "--state-dir",
      stateDir,
      "--listen",
      `127.0.0.1:${opts.port ?? 0}`,
      "--embedded-store",
      opts.embeddedStore ?? "memory",
    ];
    const env: Record<string, string> = { ...opts.env };
    if (opts.adminToken !== undefined) {
      env.YOI_TEST_ADMIN_TOKEN = opts.adminToken;
      args.push("--admin-token-env", "YOI_TEST_ADMIN_TOKEN");
    }
    if (opts.embeddedConfig !== undefined) {
      const f = `${stateDir}/embedded-runtime.toml`;
      await Deno.writeTextFile(f, opts.embeddedConfig);
      args.push("--embedded-config", f);
    }
    args.push(...(opts.extraArgs ?? []));
    const { child, port, output, done } = await spawnListening("backend", args, env, 30_000);
    const bp = new BackendProcess(child, port, stateDir, output, ownsState, opts.adminToken);
    bp.#done = done;
    return bp;
  }

  /**
   * Sends a signal, waits for exit, and removes the temp state folder it
   * created. Throws if the process ever logged an unhandled promise rejection.
   */
  async kill(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.child.kill(signal);
    } catch { /* already gone */ }
    const status = await this.child.status;
    await this.#done; // so `output` holds every line the process wrote
    if (this.#ownsState) await Deno.remove(this.stateDir, { recursive: true }).catch(() => {});
    assertNoUnhandledRejection("backend", this.output);
    return status;
  }

  async [Symbol.asyncDispose]() {
    await this.kill("SIGKILL");
  }
}
