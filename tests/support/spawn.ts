/**
 * Spawns a server process and waits for its "listening on http://127.0.0.1:PORT"
 * line, so tests pass port 0 and never race for a port.
 * @module
 */
import { decodeText } from "../../shared/deno_ws.ts";
import { UNHANDLED_REJECTION_MARKER } from "../../runtime/last_resort.ts";

/**
 * Throws when a child process's last-resort handler fired: an unhandled
 * promise rejection is a bug even though the process kept serving.
 */
export function assertNoUnhandledRejection(label: string, output: string): void {
  if (output.includes(UNHANDLED_REJECTION_MARKER)) {
    throw new Error(`${label} had an unhandled promise rejection:\n${output}`);
  }
}

export interface Spawned {
  child: Deno.ChildProcess;
  port: number;
  /** Everything printed so far (stdout and stderr); complete once `done` resolves. */
  output: string[];
  /** Resolves when both output streams have ended. */
  done: Promise<void>;
}

export async function spawnListening(
  label: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<Spawned> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  let onLine: (() => void) | null = null;
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of decodeText(stream)) {
      output.push(text);
      onLine?.();
    }
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]).then(() => {}, () => {});
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`${label} did not start in ${timeoutMs} ms`)),
      timeoutMs,
    );
    let settled = false;
    function finish(v: number | Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      onLine = null;
      if (v instanceof Error) {
        try {
          child.kill("SIGKILL"); // a process that failed to start is never left running
        } catch { /* already exited */ }
        reject(v);
      } else resolve(v);
    }
    onLine = () => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output.join(""));
      if (m) finish(Number(m[1]));
    };
    // On an early exit, wait for the streams so the error carries everything it printed.
    child.status.then(async (s) => {
      await done;
      finish(new Error(`${label} exited with ${s.code} before listening:\n${output.join("")}`));
    });
  });
  return { child, port, output, done };
}

/**
 * Stops a child: `signal` (default SIGTERM), then SIGKILL if it has not exited after
 * `graceMs`; resolves with its status. Never throws for a child that is already gone.
 */
export async function stopChild(
  child: Deno.ChildProcess,
  graceMs: number,
  signal: Deno.Signal | null = "SIGTERM",
): Promise<Deno.CommandStatus> {
  const kill = (s: Deno.Signal) => {
    try {
      child.kill(s);
    } catch { /* already exited */ }
  };
  if (signal) kill(signal);
  const t = setTimeout(() => kill("SIGKILL"), graceMs);
  try {
    return await child.status;
  } finally {
    clearTimeout(t);
  }
}
