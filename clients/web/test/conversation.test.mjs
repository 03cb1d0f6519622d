// The timer choices both apps offer follow the organisation's limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { timerChoices } from "../src/shared/conversation.js";

const offered = (...args) => timerChoices(...args).map((c) => c.seconds);

test("without limits every timer is offered", () => {
  assert.deepEqual(offered(undefined), [0, 300, 3600, 86400, 604800]);
});

test("the retention limit and the allowed timers narrow the choices", () => {
  assert.deepEqual(offered(2 * 86400), [0, 300, 3600, 86400]);
  assert.deepEqual(offered(30 * 86400, { min: 3600, max: 86400 }), [0, 3600, 86400]);
  assert.deepEqual(offered(30 * 86400, { min: 600 }), [0, 3600, 86400, 604800]);
});
