/**
 * Process checks for tests: which processes of a group are still alive.
 * @module
 */

/** Pids of live (non-zombie) processes whose process group is `pgid` (Linux /proc). */
export function liveInGroup(pgid: number): number[] {
  const live: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue; // exited meanwhile
    }
    // Fields after "(comm)": state ppid pgrp ...
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(rest[2]) === pgid && rest[0] !== "Z") live.push(Number(entry.name));
  }
  return live;
}
