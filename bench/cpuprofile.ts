/**
 * Summarises a V8 `.cpuprofile` (what `deno run --cpu-prof` writes): self
 * time per function and per origin (project file, npm package, Deno
 * internals, GC), as shares of the non-idle time.
 *
 *   deno run -A bench/cpuprofile.ts FILE.cpuprofile [TOP]
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  functions: SelfTime[];
  origins: SelfTime[];
  /** Self time charged to the nearest project function on the stack (the caller view). */
  callers: SelfTime[];
}

const IDLE = new Set(["(idle)", "(root)"]);
const PROJECT = /\/(backend|runtime|shared|web)\//;

/** Where a script comes from: an npm package, Deno's own runtime, or a project file. */
export function originOf(url: string, name: string): string {
  if (!url) return name.startsWith("(") ? name : "(native)";
  const npm =
    /node_modules\/\.deno\/([^/]+?)@[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url) ??
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (npm) return `npm:${npm[2] ?? npm[1]}`;
  if (/^ext:|^node:|^internal:/.test(url)) return `deno:${url.replace(/^ext:/, "").split("/")[0]}`;
  const project = /\/(backend|runtime|shared|web|tests|bench)\/(.+)$/.exec(url);
  if (project) return `${project[1]}/${project[2]}`;
  return url;
}

function shortUrl(url: string): string {
  const npm = /node_modules\/\.deno\/[^/]+\/node_modules\/(.+)$/.exec(url);
  if (npm) return npm[1];
  const project = /\/((?:backend|runtime|shared|web|tests|bench)\/.+)$/.exec(url);
  if (project) return project[1];
  return url.replace(/^ext:/, "");
}

export function summarizeProfile(p: CpuProfile, top = 20): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** The nearest ancestor-or-self frame in a project file, as "name where". */
  const projectFrame = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (f.url && PROJECT.test(f.url) && !f.url.includes("node_modules")) {
        return `${f.functionName || "(anonymous)"}  ${shortUrl(f.url)}:${f.lineNumber + 1}`;
      }
    }
    return "(no project frame on the stack)";
  };
  const self = new Map<number, number>();
  // timeDeltas[i] is the gap before sample i; attribute it to that sample's node.
  for (let i = 0; i < p.samples.length; i++) {
    const d = (p.timeDeltas[i] ?? 0) / 1000;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + d);
  }
  const fn = new Map<string, { name: string; where: string; ms: number }>();
  const origin = new Map<string, number>();
  const caller = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    total += ms;
    const { functionName, url, lineNumber, columnNumber } = n.callFrame;
    const name = functionName || "(anonymous)";
    if (IDLE.has(name) && !url) {
      idle += ms;
      continue;
    }
    // Deno's internal scripts are one line each: the column tells their functions apart.
    const where = url
      ? `${shortUrl(url)}:${lineNumber + 1}${lineNumber === 0 ? `:${columnNumber + 1}` : ""}`
      : "";
    const key = `${name}@${where}`;
    const e = fn.get(key) ?? { name, where, ms: 0 };
    e.ms += ms;
    fn.set(key, e);
    const o = originOf(url, name);
    origin.set(o, (origin.get(o) ?? 0) + ms);
    const c = projectFrame(id);
    caller.set(c, (caller.get(c) ?? 0) + ms);
  }
  const busy = total - idle;
  const functions = [...fn.values()].sort((a, b) => b.ms - a.ms).slice(0, top)
    .map((e) => ({ ...e, share: e.ms / busy }));
  const origins = [...origin].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, ms]) => ({ name, where: "", ms, share: ms / busy }));
  const callers = [...caller].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, ms]) => ({ name, where: "", ms, share: ms / busy }));
  return { totalMs: total, idleMs: idle, busyMs: busy, functions, origins, callers };
}

export function renderProfile(s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);
  const lines = [
    `sampled ${s.totalMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms, busy ${
      s.busyMs.toFixed(0)
    } ms (shares below are of busy time)`,
    "",
    "self time by origin:",
    ...s.origins.map((o) => `  ${pct(o.share)}  ${o.ms.toFixed(0).padStart(6)} ms  ${o.name}`),
    "",
    "self time by nearest project function on the stack (synchronous callers only):",
    ...s.callers.map((o) => `  ${pct(o.share)}  ${o.ms.toFixed(0).padStart(6)} ms  ${o.name}`),
    "",
    "top functions by self time:",
    ...s.functions.map((f) =>
      `  ${pct(f.share)}  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}  ${f.where}`
    ),
  ];
  return lines.join("\n");
}

export async function readProfile(path: string): Promise<CpuProfile> {
  return JSON.parse(await Deno.readTextFile(path)) as CpuProfile;
}

if (import.meta.main) {
  const [file, top] = Deno.args;
  if (!file) {
    console.error("usage: deno run -A bench/cpuprofile.ts FILE.cpuprofile [TOP]");
    Deno.exit(2);
  }
  console.log(renderProfile(summarizeProfile(await readProfile(file), Number(top) || 20)));
}
