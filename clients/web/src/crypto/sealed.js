// Sealed-sender envelopes (confide_crypto.sealed_sender, docs/protocol.md E2E §6): the relay
// sees the recipient mailbox and a padded ciphertext; the recipient learns and authenticates
// the sender's identity key.
//   envelope = 0x01 || ephemeral_pub(32) || sealed_sender(48) || sealed_body
import { concatBytes, utf8 } from "../shared/b64.js";
import { hkdfSha256 } from "./kdf.js";
import { edPublicToX25519, newX25519, x25519 } from "./keys.js";
import { bucketFor, pad, unpad } from "./padding.js";
import { sodium } from "./sodium.js";
import { MalformedInput, Reader, u8 } from "./wire.js";

const VERSION = 1;
const INFO_EPHEMERAL = utf8("Confide sealed sender v1 ephemeral");
const INFO_STATIC = utf8("Confide sealed sender v1 static");
const ZERO_NONCE = new Uint8Array(24);
const SEALED_SENDER_LEN = 48;
export const OVERHEAD = 1 + 32 + SEALED_SENDER_LEN + 16;
export const MAX_CONTENT = 65536 - OVERHEAD - 1;
const EMPTY = new Uint8Array(0);

function ephemeralKeys(dh, recipient, ephemeralPub) {
  const out = hkdfSha256(dh, { salt: EMPTY, info: concatBytes(INFO_EPHEMERAL, recipient, ephemeralPub), length: 64 });
  return [out.slice(0, 32), out.slice(32)];
}

const staticKey = (dh, chain, sealedSender) =>
  hkdfSha256(dh, { salt: chain, info: concatBytes(INFO_STATIC, sealedSender), length: 32 });

const aeadSeal = (key, plaintext, ad) =>
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, ZERO_NONCE, key);
const aeadOpen = (key, ciphertext, ad) =>
  sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, ZERO_NONCE, key);

export function seal(sender, recipientIdentityKey, content, ephemeral = newX25519()) {
  const recipientDh = edPublicToX25519(recipientIdentityKey);
  const head = concatBytes(u8(VERSION), ephemeral.public);
  const [chain, k1] = ephemeralKeys(x25519(ephemeral.private, recipientDh), recipientIdentityKey, ephemeral.public);
  const sealedSender = aeadSeal(k1, sender.public, head);
  const k2 = staticKey(x25519(sender.dh.private, recipientDh), chain, sealedSender);
  const padded = pad(content, bucketFor(content.length, OVERHEAD) - OVERHEAD);
  return concatBytes(head, sealedSender, aeadSeal(k2, padded, concatBytes(head, sealedSender)));
}

export function open(recipient, envelope) {
  const reader = new Reader(envelope);
  const version = reader.u8();
  if (version !== VERSION) throw new MalformedInput(`envelope version ${version}`);
  const ephemeralPub = reader.take(32);
  const sealedSender = reader.take(SEALED_SENDER_LEN);
  const sealedBody = reader.rest();
  const head = concatBytes(u8(VERSION), ephemeralPub);
  const [chain, k1] = ephemeralKeys(x25519(recipient.dh.private, ephemeralPub), recipient.public, ephemeralPub);
  const senderIdentityKey = aeadOpen(k1, sealedSender, head);
  const senderDh = edPublicToX25519(senderIdentityKey);
  const k2 = staticKey(x25519(recipient.dh.private, senderDh), chain, sealedSender);
  const padded = aeadOpen(k2, sealedBody, concatBytes(head, sealedSender));
  return { senderIdentityKey, content: unpad(padded) };
}
