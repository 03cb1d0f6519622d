import { h, show } from "../shared/dom.js";
show(h("h2", {}, "Join"));
import("../crypto/sodium.js").then(() => show(h("h2", {}, "Join ready")));
