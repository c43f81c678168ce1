/**
 * The config-file shapes the editor refuses with 409 `config_unsupported_shape` (README,
 * "Config file shapes"), each with the line the refusal must name. Shared by the store test
 * (`backend/settings/toml_shapes_test.ts`) and the HTTP test (`tests/settings_toml_test.ts`).
 * @module
 */

const A = `[[runtimes.remote]]\nid = "a"\nendpoint = "http://127.0.0.1:9001"\n`;

/** Each shape the editor refuses, with the 1-based line its message must name. */
export const UNSUPPORTED_SHAPES: {
  name: string;
  text: string;
  line: number;
  /** The file still lists connection "a" (an inline array is read, only not edited). */
  listed: boolean;
}[] = [
  {
    name: "[runtimes.remote] as one table",
    text:
      `[server]\nlisten = "127.0.0.1:8787"\n\n[runtimes.remote]\nid = "a"\nendpoint = "http://127.0.0.1:1"\n`,
    line: 4,
    listed: false,
  },
  {
    name: "a sub-table [runtimes.remote.x] with no entry",
    text: `# c\n[runtimes.remote.extra]\nk = 1\n`,
    line: 2,
    listed: false,
  },
  {
    name: "an inline array under [runtimes]",
    text: `# inline\n[runtimes]\nremote = [\n  { id = "a", endpoint = "http://127.0.0.1:1" },\n]\n`,
    line: 3,
    listed: true,
  },
  {
    name: "a dotted runtimes.remote = [...] key",
    text: `x = 1\nruntimes.remote = [{ id = "a", endpoint = "http://127.0.0.1:1" }] # inline\n`,
    line: 2,
    listed: true,
  },
  {
    name: "dotted keys remote.id under [runtimes]",
    text: `[runtimes]\nremote.id = "a"\nremote.endpoint = "http://127.0.0.1:1"\n`,
    line: 2,
    listed: false,
  },
  {
    name: "an inline runtimes = { remote = [...] } table",
    text: `\n\nruntimes = { remote = [{ id = "a", endpoint = "http://127.0.0.1:1" }] }\n`,
    line: 3,
    listed: true,
  },
  {
    name: "runtimes as a plain value",
    text: `runtimes = "nope"\n`,
    line: 1,
    listed: false,
  },
  {
    name: "[[runtimes]] as an array of tables",
    text: `[[runtimes]]\nname = "x"\n`,
    line: 1,
    listed: false,
  },
  {
    name: "a sub-table of an entry separated from it by another table",
    text: `${A}\n[other]\nk = 1\n\n[runtimes.remote.meta]\nk = 2\n`,
    line: 8,
    listed: true,
  },
];
