// The library API of ESS: the Gateway for application events.
export {};
