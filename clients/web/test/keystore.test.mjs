import { test } from "node:test";
import assert from "node:assert/strict";
import { utf8 } from "../src/shared/b64.js";
import { WrongPassphrase, newStoreKey, open, seal } from "../src/crypto/keystore.js";

const CHEAP = { opslimit: 1, memlimit: 8192 * 8 };

test("a sealed store opens with its passphrase only", () => {
  const key = newStoreKey("correct horse", CHEAP);
  const sealed = seal(key, utf8("secret state"));
  assert.deepEqual(open("correct horse", sealed).plaintext, utf8("secret state"));
  assert.throws(() => open("wrong", sealed), WrongPassphrase);
  const tampered = sealed.slice();
  tampered[tampered.length - 1] ^= 1;
  assert.throws(() => open("correct horse", tampered), WrongPassphrase);
});
