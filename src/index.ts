// The library API of ESS: the Gateway for application events (SPEC §5).
export * from "./gateway/index.js";
