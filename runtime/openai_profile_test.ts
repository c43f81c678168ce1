import assert from "node:assert/strict";
import { parseRuntimeConfig } from "./config.ts";

const BASE = `[profiles.coder]
engine = "openai"
base_url = "http://127.0.0.1:11434/v1"
model = "qwen2.5-coder"
`;

Deno.test("a valid openai profile parses, with the README's keys", () => {
  Deno.env.set("YOI_PROFILE_TEST_KEY", "k");
  try {
    const c = parseRuntimeConfig(
      BASE + `api_key_ref = "env:YOI_PROFILE_TEST_KEY"
system_prompt = "You are a careful coding agent."
tools = ["read_file", "write_file", "list_dir", "run_command"]
run_command_allow = ["git", "deno", "ls", "cat"]
max_steps = 20
temperature = 0.2
request_timeout_ms = 60000
stream_idle_timeout_ms = 60000
command_timeout_ms = 60000
max_retries = 2
max_output_bytes = 1000000
tool_output_max_bytes = 65536
`,
    );
    assert.equal(c.profiles.coder.engine, "openai");
  } finally {
    Deno.env.delete("YOI_PROFILE_TEST_KEY");
  }
});

Deno.test("an invalid openai profile is refused with the key named", () => {
  const cases: [string, RegExp][] = [
    [
      `api_key_ref = "env:HOME"`,
      /profiles\.coder\.api_key_ref: must be "env:NAME" with NAME starting with YOI_/,
    ],
    [`api_key_ref = "sk-raw-key"`, /profiles\.coder\.api_key_ref/],
    [
      `api_key_ref = "env:YOI_SURELY_UNSET_9"`,
      /profiles\.coder\.api_key_ref: environment variable YOI_SURELY_UNSET_9 is empty or unset/,
    ],
    [`api_key = "sk-x"`, /api_key/],
    [`tools = ["read_file", "rm"]`, /profiles\.coder\.tools/],
    [`tools = ["run_command"]`, /profiles\.coder\.run_command_allow/],
    [`run_command_allow = ["/bin/sh"]`, /profiles\.coder\.run_command_allow\.0/],
    [`max_steps = 0`, /profiles\.coder\.max_steps/],
    [`temperature = 3`, /profiles\.coder\.temperature/],
  ];
  for (const [line, re] of cases) {
    assert.throws(() => parseRuntimeConfig(BASE + line + "\n"), re, line);
  }
  assert.throws(
    () => parseRuntimeConfig(BASE.replace("http://127.0.0.1:11434/v1", "ftp://x")),
    /profiles\.coder\.base_url/,
  );
  assert.throws(
    () => parseRuntimeConfig(BASE.replace("127.0.0.1", "user:pw@127.0.0.1")),
    /profiles\.coder\.base_url/,
  );
  assert.throws(() => parseRuntimeConfig(BASE.replace(`model = "qwen2.5-coder"`, "")), /model/);
});
