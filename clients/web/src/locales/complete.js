// Whole catalogues, for a page built with part of them up front: the client's /join takes
// only the messages its first screens use (build.mjs, FIRST_SCREENS) and completes them here,
// with the code that follows consent (i18n.completeCatalogues). On a page built whole these
// are the modules it already holds, so loading them costs nothing.
export const COMPLETE = {
  en: () => import("./en.json", { with: { type: "json" } }),
  es: () => import("./es.json", { with: { type: "json" } }),
};
