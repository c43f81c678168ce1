/**
 * A second TOML parser for tests of the config editor: python3's `tomllib`, an independent
 * implementation, so a file the editor writes is checked by more than the parser it uses.
 * @module
 */
import assert from "node:assert/strict";

/** Parses the file at `path` with tomllib; fails the test when tomllib rejects it. */
export async function pythonToml(path: string): Promise<unknown> {
  const out = await new Deno.Command("python3", {
    args: [
      "-c",
      "import tomllib,sys,json; print(json.dumps(tomllib.load(open(sys.argv[1],'rb')), default=str))",
      path,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, `tomllib rejected the file:\n${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Plain JSON form of a parsed TOML document, for deep comparison. */
export function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}
