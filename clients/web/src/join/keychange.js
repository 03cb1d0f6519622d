// The client's side of a worker key change (docs/protocol.md E2E §18), without the page: the
// client compared the new safety number and confirmed, so the worker contact takes the new
// key. The new device's receive window for this client starts at 1, like any new
// conversation's, so the client's send sequence starts again at 1 (as the SDK's does).
// Returns what the new key sent meanwhile, to be shown now, in order.
import { addMessage } from "../shared/conversation.js";

export function confirmWorkerKey(client, conv) {
  const change = conv.keyChange;
  client.worker = { ...client.worker, identityKey: change.identityKey };
  conv.peer = client.worker;
  conv.keyChange = null;
  conv.verified = true;
  conv.sendSeq = 1;
  addMessage(conv, { id: `key-confirmed-${change.identityKey}`, kind: "system", i18n: [["join.sysKeyConfirmed"]] });
  return change.held;
}
