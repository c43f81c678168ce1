import assert from "node:assert/strict";
import type { ConnectionList, ConnectionRow } from "../../../shared/settings_dto.ts";
import { workersSentence } from "../components/delete_control.tsx";
import { describeChanges } from "./connection_list.tsx";

const row = (id: string, state: ConnectionRow["state"], checked = "t1") =>
  ({ id, display_name: id.toUpperCase(), state, last_checked_at: checked }) as ConnectionRow;
const list = (rows: ConnectionRow[], config_ok = true) =>
  ({ connections: rows, config_ok }) as ConnectionList;

Deno.test("describeChanges: states, adds, removals and the config file; nothing for a re-check", () => {
  const a = list([row("a", "ready"), row("b", "ready")]);
  assert.deepEqual(
    describeChanges(a, list([row("a", "ready", "t2"), row("b", "ready", "t2")])),
    [],
  );
  assert.deepEqual(
    describeChanges(a, list([row("a", "unreachable"), row("c", "connecting")], false)),
    [
      "A is now unreachable.",
      "C was added; it is connecting.",
      "B was removed.",
      "The config file does not parse.",
    ],
  );
  assert.deepEqual(describeChanges(list([], false), list([])), ["The config file parses again."]);
});

Deno.test("workersSentence: the count of workers that are not stopped, or why it is unknown", () => {
  assert.equal(workersSentence(0), "No workers run there.");
  assert.match(workersSentence(1), /^1 worker that is not stopped runs there; it /);
  assert.match(workersSentence(3), /^3 workers that are not stopped run there; they /);
  assert.equal(
    workersSentence(null, "It is unreachable."),
    "How many workers run there could not be read: It is unreachable.",
  );
});
