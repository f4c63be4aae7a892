/**
 * Saved-object ids. They never change: `overwrite=true` imports replace the objects a user imported before, and
 * dashboards, links and bookmarks keep working across upgrades.
 */
export const SAVED_OBJECT_IDS = {
  dataView: 'killtrace-restarts-data-view',
  searches: {
    probeInducedKills: 'killtrace-search-probe-induced-kills',
    killsDuringInit: 'killtrace-search-kills-during-init',
    workloadRestarts: 'killtrace-search-workload-restarts',
    attributionsToReview: 'killtrace-search-attributions-to-review',
    probeTimeouts: 'killtrace-search-probe-timeouts',
    oomKills: 'killtrace-search-oom-kills',
    evictions: 'killtrace-search-evictions',
  },
  lens: {
    restartsOverTime: 'killtrace-lens-restarts-over-time-by-cause',
    topWorkloadsProbeKills: 'killtrace-lens-top-workloads-probe-kills',
    initStepAtKill: 'killtrace-lens-init-step-at-kill',
    uptimeVsBudget: 'killtrace-lens-uptime-vs-probe-budget',
    nodesMostKills: 'killtrace-lens-nodes-most-kills',
  },
  dashboard: 'killtrace-restarts-dashboard',
} as const;
