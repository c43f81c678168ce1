/**
 * Profile keys of engine `openai` (DESIGN §13), as a zod schema: the runtime
 * refuses to start on a profile that breaks them, naming the key.
 * @module
 */
import { z } from "zod";

/** The tools a profile may give its workers. */
export const TOOL_NAMES = ["read_file", "write_file", "list_dir", "run_command"] as const;
export type ToolName = typeof TOOL_NAMES[number];

/** Tools when a profile names none: the file tools; `run_command` only when asked for. */
export const DEFAULT_TOOLS: readonly ToolName[] = ["read_file", "write_file", "list_dir"];

/**
 * `api_key_ref` may only name an environment variable starting with `YOI_` — the
 * Backend's rule for `token_ref` (DESIGN §8), so a config can never make the runtime
 * send, say, `$AWS_SECRET_ACCESS_KEY` to a provider.
 */
export const API_KEY_REF_PATTERN = /^env:YOI_[A-Za-z0-9_]{1,100}$/;

/** A program name for `run_command_allow`: a bare name looked up on PATH, no path separators. */
const PROGRAM_PATTERN = /^[A-Za-z0-9._+-]{1,64}$/;

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.username === "" &&
      u.password === "" && u.search === "" && u.hash === "";
  } catch {
    return false;
  }
}

export const OpenAIProfile = z.strictObject({
  engine: z.literal("openai"),
  base_url: z.string().refine(
    isHttpUrl,
    "must be an http(s) URL without credentials, query or fragment, e.g. http://127.0.0.1:11434/v1",
  ),
  model: z.string().min(1).max(200),
  api_key_ref: z.string().regex(
    API_KEY_REF_PATTERN,
    'must be "env:NAME" with NAME starting with YOI_ (e.g. env:YOI_OPENAI_API_KEY)',
  ).optional(),
  system_prompt: z.string().max(64 * 1024).optional(),
  tools: z.array(z.enum(TOOL_NAMES)).refine(
    (t) => new Set(t).size === t.length,
    "must not repeat a tool",
  ).optional(),
  run_command_allow: z.array(
    z.string().regex(PROGRAM_PATTERN, "must be a program name without a path, e.g. git"),
  ).optional(),
  max_steps: z.number().int().min(1).max(1000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  /** Until the provider's response headers arrive, per attempt. */
  request_timeout_ms: z.number().int().positive().optional(),
  /** Longest silence inside a streamed answer before it counts as cut. */
  stream_idle_timeout_ms: z.number().int().positive().optional(),
  /** Wall-clock limit of one `run_command`. */
  command_timeout_ms: z.number().int().positive().optional(),
  /** Retries of a 429/5xx/unreachable provider before any output streamed. */
  max_retries: z.number().int().min(0).max(10).optional(),
  /** Model text one turn may stream before it ends `output_limit`. */
  max_output_bytes: z.number().int().positive().optional(),
  /** Bytes of one tool result shown to the model and recorded. */
  tool_output_max_bytes: z.number().int().positive().max(8 * 1024 * 1024).optional(),
}).refine(
  (p) =>
    !(p.tools ?? DEFAULT_TOOLS).includes("run_command") || (p.run_command_allow ?? []).length > 0,
  {
    message: "tools includes run_command, so run_command_allow must list programs",
    path: ["run_command_allow"],
  },
);
export type OpenAIProfileSpec = z.infer<typeof OpenAIProfile>;

/** The environment variable an `api_key_ref` names. */
export function apiKeyEnvName(ref: string): string {
  return ref.slice("env:".length);
}
