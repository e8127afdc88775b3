// Asks the kernel for an unused loopback TCP port (the demo's own helper, shared with the tests).
export { freePort } from "../../src/demo/free-port.js";
