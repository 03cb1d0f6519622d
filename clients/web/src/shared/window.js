// Exactly-once, in-order release of sequenced payloads, per sender, as confide_client's
// ReceiveWindow does: the relay delivers a mailbox in order, but a sender may have several
// sends in flight and a reconnect may replay an envelope whose acknowledgement was lost.
// A number already released is dropped, an early one is held until the gap fills.
// Payloads without `seq` (delivery receipts, timers) pass straight through.

// A gap this long means envelopes expired unread on the relay; release what is held.
const MAX_HELD = 2048;

export function offer(windows, sender, payload) {
  if (!Number.isInteger(payload.seq) || payload.seq < 1) return [payload];
  const w = windows[sender] ?? (windows[sender] = { next: 1, held: {} });
  if (payload.seq < w.next || w.held[payload.seq]) return [];
  w.held[payload.seq] = payload;
  const waiting = Object.keys(w.held).map(Number);
  if (waiting.length > MAX_HELD) w.next = Math.min(...waiting);
  const ready = [];
  while (w.held[w.next]) {
    ready.push(w.held[w.next]);
    delete w.held[w.next];
    w.next += 1;
  }
  return ready;
}
