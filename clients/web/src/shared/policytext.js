// Which text of a policy version to show: the organisation may publish one version in several
// languages (docs/protocol.md, "Policy translations"). Each text has its own SHA-256, and the
// consent receipt names the language and hash of the one the client read, so the record says
// exactly which words were agreed to. The version's first text (`policy.text`) is shown when
// none is in the reader's language.

// [{language, text, sha256}] for every text of `policy`, its own first.
export function policyTexts(policy) {
  if (!policy) return [];
  const first = { language: policy.language ?? "en", text: policy.text, sha256: policy.sha256 };
  const others = (policy.translations ?? []).filter((tr) => tr.language !== first.language);
  return [first, ...others];
}

// The version's text in `lang`, or its first text: {version, language, text, sha256}.
export function policyText(policy, lang) {
  const texts = policyTexts(policy);
  const chosen = texts.find((tr) => tr.language === lang) ?? texts[0];
  return chosen ? { version: policy.version, ...chosen } : null;
}
