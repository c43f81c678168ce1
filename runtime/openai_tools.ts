/**
 * The tools of engine `openai`, acting only inside one worker's workspace
 * folder: paths are relative, never contain `..`, and are resolved through
 * symlinks before use, so no link can lead a tool outside. `run_command`
 * runs an allowed program by argv, without a shell, in its own process group
 * (cancel and timeout kill the whole group), with a clean environment (the
 * runtime's environment holds the provider key) and capped output.
 * @module
 */
import type { ToolName } from "./openai_profile.ts";

/** What a tool answers; `output` goes back to the model and into `tool.result`. */
export interface ToolOutcome {
  ok: boolean;
  output: string;
}

export interface ToolOptions {
  /** The worker's workspace folder; created on first use. */
  root: string;
  /** Programs `run_command` may start (bare names, looked up on PATH). */
  allow: readonly string[];
  commandTimeoutMs: number;
  /** Largest output (in bytes) of one tool. */
  outputMaxBytes: number;
  /** How long SIGTERM gets before SIGKILL. */
  killGraceMs?: number;
  /** Called with a started command's pid (= its process group); for tests. */
  onSpawn?: (pid: number) => void;
}

/** A refusal with a message fit for the model and the log (no absolute path in it). */
class ToolRefusal extends Error {}

/** JSON schemas of the tools, as sent to the provider. */
export const TOOL_SCHEMAS: Record<ToolName, unknown> = {
  read_file: {
    type: "function",
    function: {
      name: "read_file",
      description: "Read a UTF-8 text file of the workspace.",
      parameters: {
        type: "object",
        properties: { path: { type: "string", description: "Path relative to the workspace" } },
        required: ["path"],
      },
    },
  },
  write_file: {
    type: "function",
    function: {
      name: "write_file",
      description: "Create or replace a text file of the workspace; missing folders are created.",
      parameters: {
        type: "object",
        properties: {
          path: { type: "string", description: "Path relative to the workspace" },
          content: { type: "string" },
        },
        required: ["path", "content"],
      },
    },
  },
  list_dir: {
    type: "function",
    function: {
      name: "list_dir",
      description: "List a folder of the workspace; folders end with /.",
      parameters: {
        type: "object",
        properties: { path: { type: "string", description: 'Relative path; "." is the root' } },
      },
    },
  },
  run_command: {
    type: "function",
    function: {
      name: "run_command",
      description:
        "Run an allowed program in the workspace, without a shell. argv[0] is the program.",
      parameters: {
        type: "object",
        properties: { argv: { type: "array", items: { type: "string" }, minItems: 1 } },
        required: ["argv"],
      },
    },
  },
};

/** Runs one tool call; never throws: every failure is an `ok: false` outcome. */
export async function runTool(
  name: string,
  argsJson: string,
  opts: ToolOptions,
  signal: AbortSignal,
): Promise<ToolOutcome> {
  let args: Record<string, unknown>;
  try {
    const parsed = JSON.parse(argsJson || "{}");
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Error();
    }
    args = parsed;
  } catch {
    return { ok: false, output: "error: the arguments are not a JSON object" };
  }
  try {
    switch (name) {
      case "read_file":
        return await readFile(opts, str(args.path, "path"));
      case "write_file":
        return await writeFile(opts, str(args.path, "path"), str(args.content, "content"));
      case "list_dir":
        return await listDir(opts, args.path === undefined ? "." : str(args.path, "path"));
      case "run_command":
        return await runCommand(opts, argv(args.argv), signal);
      default:
        return { ok: false, output: `error: no tool named ${JSON.stringify(name.slice(0, 64))}` };
    }
  } catch (e) {
    if (e instanceof ToolRefusal) return { ok: false, output: `error: ${e.message}` };
    if (e instanceof Deno.errors.NotFound) return { ok: false, output: "error: not found" };
    if (e instanceof Deno.errors.IsADirectory) {
      return { ok: false, output: "error: that is a folder" };
    }
    // Other OS errors carry absolute paths in their text; only their kind is told.
    return { ok: false, output: `error: ${(e as Error).name ?? "failure"}` };
  }
}

function str(v: unknown, key: string): string {
  if (typeof v !== "string") throw new ToolRefusal(`"${key}" must be a string`);
  return v;
}

function argv(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === "string")) {
    throw new ToolRefusal('"argv" must be a non-empty array of strings');
  }
  return v as string[];
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith("/") ? root : root + "/");
}

/**
 * Resolves a workspace-relative path to an absolute one that is inside the
 * workspace, following symlinks of every existing part. Refuses absolute
 * paths, `..` segments, NUL and any link that leads outside.
 */
export async function resolveInside(rootDir: string, rel: string): Promise<string> {
  if (rel.includes("\0")) throw new ToolRefusal("the path contains NUL");
  if (rel.startsWith("/") || rel.startsWith("\\") || /^[A-Za-z]:/.test(rel)) {
    throw new ToolRefusal("absolute paths are refused: give a path relative to the workspace");
  }
  const parts = rel.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
  if (parts.includes("..")) throw new ToolRefusal('paths with ".." are refused');
  await Deno.mkdir(rootDir, { recursive: true });
  const root = await Deno.realPath(rootDir);
  // Walk down: every existing part is resolved through links and must stay inside.
  let cur = root;
  for (let i = 0; i < parts.length; i++) {
    const next = `${cur}/${parts[i]}`;
    let st: Deno.FileInfo;
    try {
      st = await Deno.lstat(next);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        return [next, ...parts.slice(i + 1)].join("/");
      }
      throw e;
    }
    if (st.isSymlink) {
      let real: string;
      try {
        real = await Deno.realPath(next);
      } catch {
        throw new ToolRefusal("the path goes through a broken symlink");
      }
      if (!inside(root, real)) throw new ToolRefusal("the path leaves the workspace via a symlink");
      cur = real;
    } else cur = next;
  }
  return cur;
}

/** Relative form of an absolute path inside the workspace, for messages. */
async function relName(rootDir: string, abs: string): Promise<string> {
  const root = await Deno.realPath(rootDir);
  return abs === root ? "." : abs.slice(root.length + 1);
}

async function readFile(o: ToolOptions, path: string): Promise<ToolOutcome> {
  const abs = await resolveInside(o.root, path);
  const st = await Deno.stat(abs);
  if (st.isDirectory) throw new ToolRefusal("that is a folder: use list_dir");
  using f = await Deno.open(abs, { read: true });
  const buf = new Uint8Array(Math.min(st.size, o.outputMaxBytes));
  let n = 0;
  while (n < buf.length) {
    const r = await f.read(buf.subarray(n));
    if (r === null) break;
    n += r;
  }
  const text = new TextDecoder().decode(buf.subarray(0, n));
  return {
    ok: true,
    output: st.size > n ? `${text}\n[truncated: the file has ${st.size} bytes]` : text,
  };
}

async function writeFile(o: ToolOptions, path: string, content: string): Promise<ToolOutcome> {
  if (path.split(/[\\/]+/).filter((s) => s && s !== ".").length === 0) {
    throw new ToolRefusal("write_file needs a file path");
  }
  const abs = await resolveInside(o.root, path);
  const dir = abs.slice(0, abs.lastIndexOf("/"));
  await Deno.mkdir(dir, { recursive: true });
  // Re-check after creating folders: a link may have appeared meanwhile.
  const again = await resolveInside(o.root, path);
  if (again !== abs) throw new ToolRefusal("the path changed while it was written");
  const bytes = new TextEncoder().encode(content);
  await Deno.writeFile(abs, bytes);
  return { ok: true, output: `wrote ${bytes.length} bytes to ${await relName(o.root, abs)}` };
}

const LIST_MAX = 1000;

async function listDir(o: ToolOptions, path: string): Promise<ToolOutcome> {
  const abs = await resolveInside(o.root, path);
  const names: string[] = [];
  let more = 0;
  for await (const e of Deno.readDir(abs)) {
    if (names.length >= LIST_MAX) {
      more++;
      continue;
    }
    names.push(e.isDirectory ? `${e.name}/` : e.name);
  }
  names.sort();
  if (more > 0) names.push(`[${more} more entries not shown]`);
  return { ok: true, output: capText(names.join("\n"), o.outputMaxBytes) };
}

function capText(s: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length <= maxBytes) return s;
  return new TextDecoder().decode(bytes.subarray(0, maxBytes)).replace(/\uFFFD$/, "") +
    `\n[truncated at ${maxBytes} bytes]`;
}

async function runCommand(
  o: ToolOptions,
  args: string[],
  signal: AbortSignal,
): Promise<ToolOutcome> {
  const program = args[0];
  if (!o.allow.includes(program)) {
    throw new ToolRefusal(
      `program ${JSON.stringify(program.slice(0, 64))} is not allowed; allowed: ${
        o.allow.join(", ")
      }`,
    );
  }
  if (signal.aborted) return { ok: false, output: "error: cancelled" };
  await Deno.mkdir(o.root, { recursive: true });
  const cwd = await Deno.realPath(o.root);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args: args.slice(1),
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true, // own process group: -pid reaches everything it starts
      clearEnv: true, // the runtime's environment holds the provider key
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: cwd, LANG: "C.UTF-8" },
    }).spawn();
  } catch {
    return { ok: false, output: `error: ${program} could not be started` };
  }
  const pid = child.pid;
  try {
    o.onSpawn?.(pid);
  } catch { /* an observer must not leave the child unmanaged */ }
  const killGroup = (sig: Deno.Signal) => {
    try {
      Deno.kill(-pid, sig);
    } catch { /* already gone */ }
  };

  let stopped: "cancelled" | "timeout" | "output_limit" | null = null;
  let wake!: () => void;
  const stopNow = new Promise<void>((r) => (wake = r));
  const stop = (why: NonNullable<typeof stopped>) => {
    if (stopped) return;
    stopped = why;
    wake();
  };
  const onAbort = () => stop("cancelled");
  signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => stop("timeout"), o.commandTimeoutMs);

  // Both streams share one byte budget; beyond it the command is stopped.
  const chunks: { stream: "stdout" | "stderr"; bytes: Uint8Array }[] = [];
  let used = 0;
  const pump = async (s: ReadableStream<Uint8Array>, stream: "stdout" | "stderr") => {
    const reader = s.getReader();
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        const room = o.outputMaxBytes - used;
        if (room > 0) {
          const part = r.value.subarray(0, room);
          chunks.push({ stream, bytes: part });
          used += part.length;
        }
        if (r.value.length > room) {
          stop("output_limit");
          break;
        }
      }
    } catch { /* the pipe broke: the process is gone */ }
    reader.cancel().catch(() => {});
  };
  const pumps = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);

  let status = await Promise.race([child.status, stopNow.then(() => null)]);
  if (status === null) {
    killGroup("SIGTERM");
    let t: ReturnType<typeof setTimeout> | undefined;
    status = await Promise.race([
      child.status,
      new Promise<null>((r) => (t = setTimeout(() => r(null), o.killGraceMs ?? 1000))),
    ]);
    clearTimeout(t);
    if (status === null) {
      killGroup("SIGKILL");
      status = await child.status;
    }
  }
  killGroup("SIGKILL"); // whatever the leader left behind in its group
  let t2: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([pumps, new Promise<void>((r) => (t2 = setTimeout(r, 2000)))]);
  clearTimeout(t2);
  clearTimeout(timer);
  signal.removeEventListener("abort", onAbort);

  const dec = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const out = { stdout: "", stderr: "" };
  for (const c of chunks) out[c.stream] += dec[c.stream].decode(c.bytes, { stream: true });
  const lines = [
    stopped === "cancelled"
      ? "cancelled"
      : stopped === "timeout"
      ? `timed out after ${o.commandTimeoutMs} ms`
      : status.signal
      ? `terminated by signal ${status.signal}`
      : `exit code ${status.code}`,
  ];
  if (out.stdout) lines.push(`stdout:\n${out.stdout}`);
  if (out.stderr) lines.push(`stderr:\n${out.stderr}`);
  if (stopped === "output_limit") lines.push(`[output truncated at ${o.outputMaxBytes} bytes]`);
  return { ok: stopped === null && status.success, output: lines.join("\n") };
}
