/**
 * `deno task openapi:lint`: writes both OpenAPI documents, generated from the route tables,
 * into a folder (`--out DIR`, default a temp folder) and lints them with Redocly CLI
 * (`recommended` rules, `redocly.yaml`). Exits with Redocly's status: 0 when no errors.
 * The CLI comes from npm on first use (cached by Deno afterwards, no network at run time).
 * @module
 */
import { backendOpenApiDocument, runtimeOpenApiDocument } from "../shared/routes/mod.ts";

/** The pinned Redocly CLI. */
export const REDOCLY_CLI = "npm:@redocly/cli@2.77.0";

const ROOT = new URL("..", import.meta.url).pathname;

/** Writes `backend.openapi.json` and `runtime.openapi.json` into `dir`; returns their paths. */
export async function dumpDocuments(dir: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const out: string[] = [];
  for (
    const [name, doc] of [
      ["backend", await backendOpenApiDocument()],
      ["runtime", await runtimeOpenApiDocument()],
    ] as const
  ) {
    const file = `${dir}/${name}.openapi.json`;
    await Deno.writeTextFile(file, JSON.stringify(doc, null, 2) + "\n");
    out.push(file);
  }
  return out;
}

/** Redocly's arguments that lint `files` with the project's rules. */
export function lintArgs(files: string[]): string[] {
  return ["lint", "--config", `${ROOT}redocly.yaml`, ...files];
}

/** Runs Redocly CLI with `args`; `cachedOnly` never downloads it (for the test suite). */
export function redoclyCommand(args: string[], cachedOnly = false): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--no-lock",
      "--no-prompt",
      ...(cachedOnly ? ["--cached-only"] : []),
      "--allow-read",
      "--allow-env",
      "--allow-sys",
      REDOCLY_CLI,
      ...args,
    ],
    env: { REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
    cwd: ROOT,
  });
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--out");
  const dir = i >= 0 ? Deno.args[i + 1] : await Deno.makeTempDir({ prefix: "yoi-openapi-" });
  const files = await dumpDocuments(dir);
  console.log(`openapi: wrote ${files.join(", ")}`);
  const { code } = await redoclyCommand(lintArgs(files)).spawn().status;
  if (i < 0) await Deno.remove(dir, { recursive: true });
  Deno.exit(code);
}
