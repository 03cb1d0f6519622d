// The de-identifier on the corpus shared with the Python SDK (tests/fixtures/deidentify/),
// and the review operations the consultation screen uses: undo, add a term, label spans.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { addTerm, applyRedactions, deidentify, findIdentifiers, toggle } from "../src/worker/deidentify.js";

const corpus = JSON.parse(readFileSync(new URL("../../../tests/fixtures/deidentify/corpus.json", import.meta.url), "utf8")).cases;

for (const c of corpus) {
  test(`corpus: ${c.id}`, () => {
    const out = deidentify(c.text, { alias: c.alias, names: c.names, others: c.others });
    assert.equal(out.text, c.expected);
    assert.deepEqual(out.redactions.map((r) => [r.kind, r.original]), c.found);
    for (const r of out.redactions) assert.equal(c.text.slice(r.start, r.end), r.original);
    for (const phrase of c.kept) assert.ok(out.text.includes(phrase), phrase);
    // Each span names where its label stands in the de-identified text.
    for (const s of out.spans) assert.equal(out.text.slice(s.start, s.end), out.redactions[s.index].label);
  });
}

test("undo restores one redaction and toggling again masks it", () => {
  const text = "Call Ana at 555-201-7788 tomorrow.";
  const found = findIdentifiers(text, { alias: "Ana" });
  assert.equal(applyRedactions(text, found).text, "Call [client] at [phone] tomorrow.");
  const phone = found.findIndex((r) => r.kind === "phone");
  const undone = toggle(found, phone);
  assert.equal(applyRedactions(text, undone).text, "Call [client] at 555-201-7788 tomorrow.");
  assert.equal(applyRedactions(text, toggle(undone, phone)).text, "Call [client] at [phone] tomorrow.");
});

test("a term the worker adds is masked everywhere, case and accents folded", () => {
  const text = "She works at the Bodega Sol. La bodega sol cierra tarde; bodega Sól pays cash.";
  const out = applyRedactions(text, addTerm(text, findIdentifiers(text), "Bodega Sol"));
  assert.equal(out.text, "She works at the [redacted]. La [redacted] cierra tarde; [redacted] pays cash.");
});

test("a term inside an existing redaction merges into the longer one", () => {
  const text = "Write to ana.ruiz@example.org today.";
  const redactions = addTerm(text, findIdentifiers(text), "ruiz");
  assert.equal(applyRedactions(text, redactions).text, "Write to [email] today.");
  assert.equal(redactions.length, 1);
});

test("names only match whole words", () => {
  assert.equal(deidentify("Ana is at the banana stand in Anaheim, Ana's favourite.", { alias: "Ana" }).text,
    "[client] is at the banana stand in Anaheim, [client]'s favourite.");
});
