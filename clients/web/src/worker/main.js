import { h, show } from "../shared/dom.js";
show(h("h2", {}, "Worker app"));
