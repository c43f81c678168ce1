/**
 * The Runtime's own config file (TOML): display name and profiles. Profiles
 * are defined only here; a caller can name a profile, never a command line.
 * @module
 */
import { parse } from "smol-toml";
import { z } from "zod";
import { NAME_PATTERN } from "../shared/mod.ts";
import { CommandEngine } from "./command_engine.ts";
import { EchoEngine } from "./echo_engine.ts";
import type { Engine, EngineEnv } from "./engine.ts";
import { OpenAIEngine } from "./openai_engine.ts";
import { apiKeyEnvName, OpenAIProfile } from "./openai_profile.ts";

/** Per-turn output cap of a profile (bytes); the runtime default is 8 MiB (DESIGN §11). */
const MaxOutputBytes = z.number().int().positive().optional();

const EchoProfile = z.strictObject({
  engine: z.literal("echo"),
  max_output_bytes: MaxOutputBytes,
  chunk_chars: z.number().int().positive().optional(),
  delay_ms: z.number().int().nonnegative().optional(),
});
const CommandProfile = z.strictObject({
  engine: z.literal("command"),
  max_output_bytes: MaxOutputBytes,
  argv: z.array(z.string()).min(1),
  timeout_ms: z.number().int().positive().optional(),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
});
export const ProfileSpecSchema = z.discriminatedUnion("engine", [
  EchoProfile,
  CommandProfile,
  OpenAIProfile,
]);
export type ProfileSpec = z.infer<typeof ProfileSpecSchema>;

export const RuntimeConfigSchema = z.strictObject({
  display_name: z.string().max(80).optional(),
  default_profile: z.string().regex(NAME_PATTERN).optional(),
  profiles: z.record(z.string().regex(NAME_PATTERN), ProfileSpecSchema).default({}),
});
export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;

/** The profile every Runtime has. */
export const BUILTIN_PROFILES: Record<string, ProfileSpec> = { echo: { engine: "echo" } };

/** Parses a runtime config file's text; throws an Error with a readable reason. */
export function parseRuntimeConfig(text: string): RuntimeConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new Error(`runtime config is not valid TOML: ${(e as Error).message}`);
  }
  const r = RuntimeConfigSchema.safeParse(raw);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`runtime config is invalid: ${why.join("; ")}`);
  }
  for (const [name, p] of Object.entries(r.data.profiles)) {
    if (p.engine === "openai" && p.api_key_ref !== undefined) {
      const env = apiKeyEnvName(p.api_key_ref);
      if (!Deno.env.get(env)) {
        throw new Error(
          `runtime config is invalid: profiles.${name}.api_key_ref: environment variable ${env} is empty or unset`,
        );
      }
    }
  }
  const profiles = { ...BUILTIN_PROFILES, ...r.data.profiles };
  const default_profile = r.data.default_profile ?? "echo";
  if (!profiles[default_profile]) {
    throw new Error(
      `runtime config is invalid: default_profile "${default_profile}" is not defined`,
    );
  }
  return { ...r.data, profiles, default_profile };
}

/** Builds the engine that runs turns for a profile. */
export function engineFor(spec: ProfileSpec, env: EngineEnv = {}): Engine {
  switch (spec.engine) {
    case "echo":
      return new EchoEngine(spec);
    case "command":
      return new CommandEngine(spec);
    case "openai":
      return new OpenAIEngine(spec, env);
  }
}
