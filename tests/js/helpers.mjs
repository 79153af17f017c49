// Shared helpers for the node --test suites in tests/js/.
import { readFileSync } from "node:fs";

export const REPO = new URL("../../", import.meta.url);

export function loadVector(name) {
  return JSON.parse(readFileSync(new URL(`tests/vectors/crypto/${name}`, REPO), "utf8"));
}

/** Wycheproof cases as {id, group, test}, id like "tc12-valid-Ktv" (as the Python helper). */
export function wycheproofCases(name, keep = () => true) {
  const cases = [];
  for (const group of loadVector(name).testGroups) {
    for (const test of group.tests) {
      if (keep(group, test)) {
        const flags = (test.flags ?? []).join("+") || "none";
        cases.push({ id: `tc${test.tcId}-${test.result}-${flags}`, group, test });
      }
    }
  }
  return cases;
}

export function hex(text) {
  return Uint8Array.from(Buffer.from(text, "hex"));
}
