// Opening an invite link. The first thing a client needs is the organisation's policy, and
// that needs no crypto: it is public (GET /v1/organisation) and is checked against its
// published SHA-256 with the browser's own WebCrypto. So the consent screen comes first, and
// only once it can be used does the crypto chunk (libsodium: nearly all of the page's bytes)
// load in the background, make this browser's keys and redeem the invite. "I agree" waits
// for that if it is still under way; a link that cannot be used replaces the screen as soon
// as the relay says so.
import { toHex, utf8 } from "../shared/b64.js";
import { show } from "../shared/dom.js";
import { privacyButton } from "../shared/guides.js";
import { language, onLanguageChange } from "../shared/i18n.js";
import { policyText } from "../shared/policytext.js";
import { CONSENT_DAYS, consentView } from "./consentview.js";

// The organisation and its policy. join.html preloads this address, so the answer is on its
// way while the script loads; a fetch with the preload's mode and credentials (the
// defaults, as `crossorigin="anonymous"` asks) takes it instead of asking again.
async function preloadedOrganisation() {
  const response = await fetch("/v1/organisation", { headers: { accept: "application/json" } });
  return response.ok ? response.json() : null;
}

export async function sha256Hex(text) {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text))));
}

// `loadClient` imports client.js (and with it the crypto). Without WebCrypto (a page served
// over plain http from another host than localhost) or without a published policy, the
// page takes the longer way: keys and redemption first, as client.js's join() does.
export async function openInvite(token, loadClient) {
  const org = globalThis.crypto?.subtle ? await preloadedOrganisation().catch(() => null) : null;
  if (!org?.policy) {
    (await loadClient()).join(token);
    return;
  }
  let pending = null;
  // This screen is the page's until the client agrees or the link turns out unusable; till
  // then a change of language draws it again, with the version's text in the new language.
  let active = true;
  // The client module once the invite is redeemed, or null when the link cannot be used
  // (client.js has then shown why). A chunk that failed to load is tried again on "I agree".
  const redeemed = () => (pending ??= loadClient()
    .then(async (client) => {
      if (await client.prepare(token, org)) return client;
      active = false;
      return null;
    })
    .catch((err) => {
      pending = null;
      throw err;
    }));
  const draw = async () => {
    const policy = policyText(org.policy, language());
    const intact = (await sha256Hex(policy.text)) === policy.sha256;
    if (!active) return;
    show(consentView({
      policy, policyIntact: intact, days: CONSENT_DAYS, privacyButton: privacyButton(() => org.texts),
      onAgree: async (remember) => {
        active = false;
        const client = await redeemed();
        if (client) await client.agreeTo(policy, remember);
      },
    }));
  };
  onLanguageChange(() => draw());
  await draw();
  redeemed().catch(() => {});
}
