/** Exit codes every Killtrace service process uses (the CLI has its own, services/cli/src/errors.ts). */
export const EXIT_OK = 0;
/** A failure at run time that retrying in-process cannot fix (the orchestrator restarts the pod). */
export const EXIT_RUNTIME = 1;
/** A configuration (or rules file, topology, profile) the service refuses to run with: fix and restart. */
export const EXIT_CONFIG = 2;
