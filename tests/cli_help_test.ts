/**
 * Every CLI form a user may type for help prints the usage and exits 0 within 5 s, with or
 * without `--`, in any position; an unknown flag exits 2 with the usage line (issue 14).
 * @module
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

async function run(
  args: string[],
): Promise<{ code: number; out: string; err: string; ms: number }> {
  const t0 = Date.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  const out = await child.output();
  clearTimeout(killer);
  return {
    code: out.code,
    out: new TextDecoder().decode(out.stdout),
    err: new TextDecoder().decode(out.stderr),
    ms: Date.now() - t0,
  };
}

Deno.test("CLI: every help form exits 0 within 5 s with the usage", async () => {
  const forms: [string[], RegExp][] = [
    [["task", "runtime", "--", "--help"], /Usage: deno task runtime/],
    [["task", "runtime", "--help"], /Usage: deno task runtime/],
    [["task", "runtime", "-h"], /Usage: deno task runtime/],
    [["task", "runtime", "--", "--id", "x", "--listen", "127.0.0.1:0", "-h"], /Usage:/],
    [["task", "runtime", "--", "trust", "--help"], /trust add KEY/],
    [["task", "runtime", "trust", "list", "-h"], /trust add KEY/],
    [["task", "dev", "--", "--help"], /Usage: deno task dev/],
    [["task", "dev", "-h"], /Usage: deno task dev/],
    [["task", "dev", "--", "key", "show", "--help"], /Usage: deno task dev/],
  ];
  for (const [args, usage] of forms) {
    const r = await run(args);
    const what = args.slice(1).join(" ");
    assert.equal(r.code, 0, `${what}: ${r.err}`);
    assert.match(r.out, usage, what);
    assert.ok(r.ms < 5_000, `${what} took ${r.ms} ms`);
  }
});

Deno.test("CLI: an unknown flag or sub-command exits 2 with the usage line", async () => {
  const forms: [string[], RegExp][] = [
    [["task", "runtime", "--", "--bogus"], /Unknown option '--bogus'[\s\S]*Usage:/],
    [["task", "runtime", "trust", "bogus"], /usage: deno task runtime -- trust add/],
    [["task", "runtime", "trust", "add", "--bogus"], /Unknown option '--bogus'\.\s+usage:/],
    [["task", "dev", "--", "--bogus"], /Unknown option '--bogus'[\s\S]*Usage:/],
  ];
  for (const [args, usage] of forms) {
    const r = await run(args);
    const what = args.slice(1).join(" ");
    assert.equal(r.code, 2, `${what}: ${r.out}`);
    assert.match(r.err, usage, what);
  }
});
