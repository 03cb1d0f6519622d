// Padding to size buckets (confide_crypto.padding): content || 0x80 || zeros, so the relay
// learns only which bucket an envelope falls in.
export const BUCKETS = [256, 1024, 4096, 16384, 65536];

export function bucketFor(length, overhead = 0) {
  const needed = length + 1 + overhead;
  const bucket = BUCKETS.find((b) => needed <= b);
  if (bucket === undefined) throw new RangeError(`content of ${length} bytes exceeds the largest bucket`);
  return bucket;
}

export function pad(content, target) {
  if (content.length + 1 > target) throw new RangeError("content does not fit the target length");
  const out = new Uint8Array(target);
  out.set(content);
  out[content.length] = 0x80;
  return out;
}

export function unpad(padded) {
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end -= 1;
  if (end === 0 || padded[end - 1] !== 0x80) throw new Error("bad padding");
  return padded.slice(0, end - 1);
}
