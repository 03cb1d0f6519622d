// The ratchet message wire format, as in confide_crypto.header (docs/protocol.md E2E §5):
//   message = version(1)=0x01 || kind(1) || [initial] || header || ciphertext
//   initial = ephemeral_key(32) || signed_prekey_id(u32) || has_opk(1) || opk_id(u32)
//   header  = ratchet_key(32) || PN(u32) || N(u32)
import { concatBytes } from "../shared/b64.js";
import { MalformedInput, Reader, u32, u8 } from "./wire.js";

export const MESSAGE_VERSION = 1;
const KIND_ORDINARY = 0;
const KIND_PREKEY = 1;

export function encodeHeader(header) {
  return concatBytes(header.ratchetKey, u32(header.pn), u32(header.n));
}

export function encodeInitial(initial) {
  const opk = initial.oneTimePrekeyId;
  return concatBytes(initial.ephemeralKey, u32(initial.signedPrekeyId), u8(opk == null ? 0 : 1), u32(opk ?? 0));
}

export function messagePrefix(message) {
  if (message.initial == null) return concatBytes(u8(MESSAGE_VERSION), u8(KIND_ORDINARY), encodeHeader(message.header));
  return concatBytes(u8(MESSAGE_VERSION), u8(KIND_PREKEY), encodeInitial(message.initial), encodeHeader(message.header));
}

export const encodeMessage = (message) => concatBytes(messagePrefix(message), message.ciphertext);

export function readInitial(reader) {
  const ephemeralKey = reader.take(32);
  const signedPrekeyId = reader.u32();
  const hasOpk = reader.flag();
  const opkId = reader.u32();
  if (!hasOpk && opkId !== 0) throw new MalformedInput("one-time prekey id set without the flag");
  return { ephemeralKey, signedPrekeyId, oneTimePrekeyId: hasOpk ? opkId : null };
}

export function decodeMessage(data) {
  const reader = new Reader(data);
  const version = reader.u8();
  if (version !== MESSAGE_VERSION) throw new MalformedInput(`ratchet message version ${version}`);
  const kind = reader.u8();
  let initial = null;
  if (kind === KIND_PREKEY) {
    initial = readInitial(reader);
  } else if (kind !== KIND_ORDINARY) {
    throw new MalformedInput(`unknown message kind ${kind}`);
  }
  const header = { ratchetKey: reader.take(32), pn: reader.u32(), n: reader.u32() };
  return { header, initial, ciphertext: reader.rest() };
}
