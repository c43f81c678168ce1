/**
 * CPU time of a process from `/proc/<pid>/stat` (utime + stime, all threads,
 * in clock ticks), the number the goal rows divide by requests served. Linux
 * only; NaN elsewhere or once the process is gone.
 * @module
 */

/** Clock ticks per second (`getconf CLK_TCK`); 100 on every Linux build the bench runs on. */
export const CLK_TCK = 100;

/** utime + stime of `pid` in ms (10 ms resolution); NaN when unreadable. */
export function statCpuMs(pid: number | "self"): number {
  try {
    return parseStatCpuMs(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return NaN;
  }
}

/** utime + stime in ms from the text of a `/proc/<pid>/stat` file. */
export function parseStatCpuMs(text: string): number {
  // The command name (field 2) may hold spaces and parentheses: fields after the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const ticks = Number(rest[11]) + Number(rest[12]);
  return (ticks * 1000) / CLK_TCK;
}

/** Sum of {@link statCpuMs} over several processes (e.g. nginx master + worker). */
export function statCpuMsAll(pids: readonly number[]): number {
  let ms = 0;
  for (const p of pids) ms += statCpuMs(p);
  return ms;
}

/** Direct children of `pid` (Linux `/proc/<pid>/task/<pid>/children`); [] when unreadable. */
export function childPids(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/)
      .filter((s) => s !== "").map(Number);
  } catch {
    return [];
  }
}
