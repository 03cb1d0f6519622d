// Where quick exit sends the client: a neutral page in the language the client's page was
// showing. The page has no script (it must look like any other site, and the exit has just
// wiped the choice a script could read), so the build writes one copy per language with its
// text from the catalogue (build.mjs), and the exit picks the copy by name.
export const neutralPage = (lang) => (lang === "en" ? "neutral.html" : `neutral.${lang}.html`);
