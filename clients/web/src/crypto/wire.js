// Bounds-checked reading and big-endian writing for the binary wire formats
// (docs/protocol.md (part 2)), as in confide_crypto.encoding.
import { fromUtf8, utf8 } from "../shared/b64.js";

export const u8 = (v) => Uint8Array.of(v);

export function u16(v) {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
}

export function u32(v) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v, false);
  return out;
}

export function u64(v) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(v), false);
  return out;
}

export function text16(value) {
  const raw = utf8(value);
  if (raw.length > 0xffff) throw new RangeError("string longer than 65535 bytes");
  return new Uint8Array([...u16(raw.length), ...raw]);
}

export class MalformedInput extends Error {
  name = "MalformedInput"; // read by shared/problems.js (class names do not survive minifying)
}

export class Reader {
  constructor(data) {
    this.data = data;
    this.pos = 0;
  }

  take(n) {
    const end = this.pos + n;
    if (end > this.data.length) throw new MalformedInput("truncated input");
    const chunk = this.data.slice(this.pos, end);
    this.pos = end;
    return chunk;
  }

  u8() {
    return this.take(1)[0];
  }

  u16() {
    const b = this.take(2);
    return (b[0] << 8) | b[1];
  }

  u32() {
    return new DataView(this.take(4).buffer).getUint32(0, false);
  }

  u64() {
    return Number(new DataView(this.take(8).buffer).getBigUint64(0, false));
  }

  flag() {
    const v = this.u8();
    if (v > 1) throw new MalformedInput("flag byte must be 0 or 1");
    return v === 1;
  }

  text16() {
    return fromUtf8(this.take(this.u16()));
  }

  rest() {
    return this.take(this.data.length - this.pos);
  }

  done() {
    if (this.pos !== this.data.length) throw new MalformedInput("trailing bytes");
  }
}
