#!/usr/bin/env node
// essctl: the operator command line of ESS.
export {};
