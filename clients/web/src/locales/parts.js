// The messages the client's page (/join) takes up front, by key prefix: those of the screens
// it can show before the code that follows consent has loaded (consent, the privacy guide and
// the call checklist, what the relay keeps, the relay's refusals, the unlock screen, the
// quick-exit page). build.mjs builds the page with only these in its catalogues; the rest
// comes with the code after consent (i18n.completeCatalogues). test/build.test.mjs checks
// that the page's first code names no message outside them.
export const FIRST_SCREENS = [
  "app.", "common.", "join.", "consent.", "privacy.", "checklist.", "records.", "problem.", "neutral.",
];
