/**
 * `deno task bench`: side-by-side benchmarks of the Backend against direct
 * runtime calls, run on 127.0.0.1 with real processes. Prints one table and
 * writes `bench/results/latest.json` (and `latest.md`, the same table).
 *
 *   deno task bench                  full run (a few minutes on 2 cores)
 *   deno task bench --quick          smaller counts, for a smoke check
 *   deno task bench --only 1,3       only some scenarios (1 proxy, 2 fan-out,
 *                                    3 events, 4 persistence, 5 startup, 6 limits,
 *                                    7 subscribers, 8 restart)
 *   deno task bench --profile proxy  the proxied GET of scenario 1 at c=32 only
 *                                    (`fanout`: repeated GET /api/workers over
 *                                    32 runtimes; `events`: scenario 3) with the
 *                                    Backend under `--cpu-prof`; prints its top
 *                                    self-time functions
 *
 * It prints the goal table (the issue's row ids) and then every row; see
 * `bench/README.md` for what each row measures. Every process it starts is
 * stopped in a `finally` (and on Ctrl-C).
 * @module
 */
import { parseArgs } from "node:util";
import { readProfile, renderProfile, summarizeProfile } from "./cpuprofile.ts";
import { eventsScenario } from "./events.ts";
import { fanoutProfileRun, fanoutScenario, healthScenario, startFleet } from "./fanout.ts";
import { limitsScenario } from "./limits.ts";
import { LoadClient } from "./load.ts";
import { persistenceScenario } from "./persistence.ts";
import { Procs } from "./procs.ts";
import { proxyProfileRun, proxyScenario } from "./proxy.ts";
import { renderGoals, renderNotes, renderTable, resultDocument, type Row } from "./report.ts";
import { restartScenario } from "./restart.ts";
import { startupScenario } from "./startup.ts";
import { subscribersScenario } from "./subscribers.ts";

const RESULTS = new URL("./results/", import.meta.url).pathname;
/** Upper bound for a whole run (a full run takes a few minutes on 2 cores). */
const WATCHDOG_S = 600;

/** The issue's goals (issue 15), in the order the goal table prints them. */
export const GOALS = [
  { id: "proxy.c32.backend_vs_nginx", scenario: 1, goal: "≥ 0.6× nginx req/s" },
  { id: "proxy.c32.backend_cpu_us", scenario: 1, goal: "≤ 50 µs Backend CPU per proxied request" },
  { id: "proxy.c1.p50_added_ms", scenario: 1, goal: "≤ 0.15 ms over direct" },
  { id: "input.c8.backend_vs_direct", scenario: 1, goal: "≥ 0.8×" },
  { id: "embedded.c32.vs_direct", scenario: 1, goal: "≥ 0.9×" },
  {
    id: "events.subs50.p99_added_ms",
    scenario: 7,
    goal: "≤ 50 ms with 50 subscribers on one worker",
  },
  { id: "events.subs50.vs_direct", scenario: 7, goal: "≥ 0.9× total events/s" },
  { id: "fanout.n32_vs_n1", scenario: 2, goal: "≤ 3×" },
  { id: "fanout.hung_over_deadline_ms", scenario: 2, goal: "≤ 20 ms" },
  {
    id: "runtime.restart_100k_vs_1k",
    scenario: 8,
    goal: "≤ 1.5× (restart cost independent of history)",
  },
  { id: "load.client_cpu_us", scenario: 1, goal: "≤ 20 µs (the bench's own load client)" },
] as const;

function settings(quick: boolean) {
  return {
    proxy: {
      rounds: 3,
      warmupMs: quick ? 100 : 400,
      windowMs: quick ? 300 : 1500,
      concurrency: 32,
      c1WindowMs: quick ? 300 : 1000,
      inputConcurrency: 8,
      inputWorkersPerConn: 32,
    },
    fanout: {
      sizes: quick ? [1, 32] : [1, 8, 32],
      workersPerRuntime: 50,
      warmup: quick ? 2 : 3,
      rounds: 3,
      perRound: quick ? 3 : 7,
      windowMs: quick ? 300 : 1500,
      hungSamples: quick ? 2 : 5,
      deadlineMs: 500,
      batch: 8,
    },
    subscribers: {
      subscribers: 50,
      rounds: 3,
      windowMs: quick ? 500 : 2500,
      inputIntervalMs: 100,
      inputChars: 20,
      drainMs: quick ? 1500 : 5000,
    },
    restart: {
      workers: 1000,
      turnChars: 93,
      runs: quick ? 1 : 3,
      pollMs: 5,
      timeoutMs: 60_000,
      floor: !quick,
    },
    events: {
      deltas: quick ? 2000 : 10_000,
      repeats: quick ? 1 : 3,
      warmTurns: quick ? 1 : 2,
      store: "fs" as const,
      timeoutMs: 120_000,
    },
    persistence: quick
      ? { events: 2000, workers: 20, connections: 50 }
      : { events: 20_000, workers: 50, connections: 100 },
    startup: { runs: quick ? 1 : 5, remotes: [0, 8], pollMs: 2, timeoutMs: 30_000 },
    limits: quick
      ? {
        workerSteps: [0, 200, 1_000],
        createConcurrency: 16,
        logSizes: [1_000, 20_000] as [number, number],
        pageSamples: 50,
      }
      : {
        workerSteps: [0, 1_000, 10_000],
        createConcurrency: 16,
        logSizes: [1_000, 100_000] as [number, number],
        pageSamples: 200,
      },
  };
}

function machine() {
  return {
    cores: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    loadavg: Deno.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

async function newestProfile(dir: string): Promise<string | null> {
  let best: { path: string; mtime: number } | null = null;
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.endsWith(".cpuprofile")) continue;
    const st = await Deno.stat(`${dir}/${e.name}`);
    const mtime = st.mtime?.getTime() ?? 0;
    if (!best || mtime > best.mtime) best = { path: `${dir}/${e.name}`, mtime };
  }
  return best?.path ?? null;
}

async function main() {
  const { values: args } = parseArgs({
    args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      profile: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (args.help) {
    console.log(
      "deno task bench [--quick] [--only 1,2,3,4,5,6,7,8] [--profile proxy|fanout|events]\n" +
        "  1 proxy, 2 fan-out, 3 event streaming, 4 persistence, 5 startup, 6 limits,\n" +
        "  7 subscribers (50 on one worker), 8 runtime restart",
    );
    return;
  }
  const quick = args.quick!;
  const cfg = settings(quick);
  const profile = args.profile;
  const profiled: Record<string, number> = { proxy: 1, fanout: 2, events: 3 };
  if (profile !== undefined && !(profile in profiled)) {
    console.error("--profile must be proxy, fanout or events");
    Deno.exit(2);
  }
  const only = new Set(
    profile ? [profiled[profile]] : (args.only ?? "1,2,3,4,5,6,7,8").split(",").map(Number),
  );
  await Deno.mkdir(RESULTS, { recursive: true });
  const profDir = `${RESULTS}profile`;
  const denoArgs = profile ? [`--cpu-prof`, `--cpu-prof-dir=${profDir}`] : undefined;
  if (profile) {
    await Deno.remove(profDir, { recursive: true }).catch(() => {});
    await Deno.mkdir(profDir, { recursive: true });
  }

  const startedAt = new Date();
  const machineStart = machine();
  const t0 = performance.now();
  const procs = new Procs();
  await procs.init();
  let load: LoadClient | null = null;
  const onSignal = () => {
    console.error("\ninterrupted: stopping every process the benchmark started");
    procs.cleanup().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  // Every loop is bounded by a count or a deadline; this bounds the whole run as well.
  const watchdog = setTimeout(() => {
    console.error(`\nbenchmark exceeded ${WATCHDOG_S} s: stopping every process it started`);
    procs.cleanup().finally(() => Deno.exit(1));
  }, WATCHDOG_S * 1000);

  const rows: Row[] = [];
  const raw: Record<string, unknown> = {};
  const failures: { scenario: string; message: string }[] = [];
  const step = async (
    name: string,
    run: () => Promise<{ rows: Row[]; raw: Record<string, unknown> }>,
  ) => {
    const s = performance.now();
    console.error(`… ${name}`);
    try {
      const r = await run();
      rows.push(...r.rows);
      raw[name] = { ...r.raw, seconds: Math.round(performance.now() - s) / 1000 };
      console.error(`  done in ${((performance.now() - s) / 1000).toFixed(1)} s`);
    } catch (e) {
      // One failed scenario does not lose the others; the run still exits non-zero.
      const message = (e as Error).message ?? String(e);
      failures.push({ scenario: name, message });
      console.error(`  FAILED: ${message}`);
    }
  };

  try {
    if (only.has(1)) {
      load = await LoadClient.start();
      const l = load;
      procs.adopt({ pids: () => [l.pid], stop: () => l.close() });
    }
    if (profile === "proxy") {
      await step("proxy", () =>
        proxyProfileRun(procs, load!, {
          ...cfg.proxy,
          windowMs: quick ? 2000 : 8000,
          backendDenoArgs: denoArgs,
        }));
      console.error(`  ${JSON.stringify(raw.proxy)}`);
    } else if (only.has(1)) {
      await step("proxy", () => proxyScenario(procs, load!, cfg.proxy));
    }
    if (only.has(3)) {
      await step(
        "events",
        () => eventsScenario(procs, { ...cfg.events, backendDenoArgs: denoArgs }),
      );
    }
    if (only.has(7)) await step("subscribers", () => subscribersScenario(procs, cfg.subscribers));
    if (only.has(4)) await step("persistence", () => persistenceScenario(procs, cfg.persistence));
    // Restart and limits leave big store folders: each is deleted in the background while
    // the next (CPU-bound) step runs.
    if (only.has(8)) await step("restart", () => restartScenario(procs, cfg.restart));
    if (only.has(6)) await step("limits", () => limitsScenario(procs, cfg.limits));
    if (only.has(2) || only.has(5)) {
      const size = Math.max(only.has(2) ? Math.max(...cfg.fanout.sizes) : 0, 8);
      console.error(`… starting ${size} runtime processes (batches of ${cfg.fanout.batch})`);
      const fleet = await startFleet(procs, size, cfg.fanout.workersPerRuntime, cfg.fanout.batch);
      console.error(
        `  started in ${(fleet.startMs / 1000).toFixed(1)} s, ` +
          `${size * cfg.fanout.workersPerRuntime} workers in ${
            (fleet.createMs / 1000).toFixed(1)
          } s`,
      );
      try {
        if (profile === "fanout") {
          await step(
            "fanout",
            () => fanoutProfileRun(procs, fleet, cfg.fanout, quick ? 50 : 200, denoArgs!),
          );
          console.error(`  ${JSON.stringify(raw.fanout)}`);
        } else if (only.has(2)) {
          await step("fanout", () => fanoutScenario(procs, fleet, cfg.fanout));
          await step("health", () => healthScenario(procs, fleet, cfg.fanout, quick ? 2 : 6));
        }
        if (only.has(5)) {
          await step("startup", () => startupScenario(procs, fleet.runtimes, cfg.startup));
        }
      } finally {
        const s = performance.now();
        await procs.stopAll(fleet.runtimes);
        console.error(
          `  stopped the ${size} runtimes in ${((performance.now() - s) / 1000).toFixed(1)} s`,
        );
      }
    }
  } finally {
    const s = performance.now();
    await procs.cleanup();
    console.error(`  cleanup in ${((performance.now() - s) / 1000).toFixed(1)} s`);
    Deno.removeSignalListener("SIGINT", onSignal);
    clearTimeout(watchdog);
  }
  const left = procs.livePids();
  if (left.length) throw new Error(`processes still running: ${left.join(", ")}`);

  const totalS = (performance.now() - t0) / 1000;
  // A profiled run measures only the profiled path: no goal table.
  const goals = profile ? "" : renderGoals(GOALS.filter((g) => only.has(g.scenario)), rows);
  const table = renderTable(rows);
  const notes = renderNotes(rows);
  const m = { ...machineStart, loadavg_end: machine().loadavg };
  const header = `${startedAt.toISOString()} · ${m.cores} cores · Deno ${m.deno} · ${m.os} · ` +
    `load avg at start ${m.loadavg.join(" ")}, at end ${m.loadavg_end.join(" ")} · ${
      quick ? "quick" : "full"
    } run ${totalS.toFixed(0)} s`;
  const failed = failures.map((f) => `- ${f.scenario} FAILED: ${f.message}`).join("\n");
  const text = `${header}\n\n${
    goals ? `Goals (issue 15):\n\n${goals}\n\n` : ""
  }All rows:\n\n${table}\n${notes ? `\nNotes:\n\n${notes}\n` : ""}${
    failed ? `\nFailed scenarios:\n\n${failed}\n` : ""
  }`;
  console.log(`\n${text}`);

  if (profile) {
    const file = await newestProfile(profDir);
    if (!file) throw new Error("the Backend wrote no .cpuprofile");
    console.log(`Backend CPU profile (${profile} scenario): ${file}\n`);
    console.log(renderProfile(summarizeProfile(await readProfile(file), 25)));
    return; // a profiled run is slower: it does not replace latest.json
  }

  const doc = resultDocument(rows, m, {
    date: startedAt.toISOString(),
    mode: quick ? "quick" : "full",
    scenarios: [...only].sort(),
    total_seconds: Math.round(totalS * 10) / 10,
    failures,
  });
  await Deno.writeTextFile(
    `${RESULTS}latest.json`,
    JSON.stringify({ ...doc, raw }, null, 2) + "\n",
  );
  await Deno.writeTextFile(`${RESULTS}latest.md`, text);
  console.log(`wrote bench/results/latest.json and latest.md (${totalS.toFixed(0)} s)`);
  if (failures.length) Deno.exit(1);
}

if (import.meta.main) await main();
