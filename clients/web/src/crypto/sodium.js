// One shared, initialised libsodium instance. Importing this module is what pulls the
// (large) libsodium chunk into the page, so only the crypto modules import it.
import sodiumModule from "libsodium-wrappers-sumo";

await sodiumModule.ready;

export const sodium = sodiumModule;
