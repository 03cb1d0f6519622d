// The policy diff a client sees when asked to agree again (issue 14).
import assert from "node:assert/strict";
import { test } from "node:test";
import { lineDiff } from "../src/shared/diff.js";

test("kept, added and removed lines in order", () => {
  const diff = lineDiff("Line one.\nLine two.\nLine three.", "Line one.\nLine 2.\nLine three.\nNew line.");
  assert.deepEqual(diff, [
    { kind: "same", text: "Line one." },
    { kind: "removed", text: "Line two." },
    { kind: "added", text: "Line 2." },
    { kind: "same", text: "Line three." },
    { kind: "added", text: "New line." },
  ]);
});

test("an identical text has no change", () => {
  assert.ok(lineDiff("a\nb", "a\nb").every((line) => line.kind === "same"));
});
