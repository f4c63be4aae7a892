/**
 * The V8 heap flags the correlator ships with (the Helm chart's and the kustomize base's Deployment set them in
 * NODE_OPTIONS; test/unit/correlator-heap.test.ts keeps them equal). With V8's defaults on a big machine the old
 * generation fills with garbage to about twice the live heap before its first full collection (decision 0024,
 * README "Performance"); a 512 MB limit makes V8 collect it sooner. The live heap is about 75 MB at 5,000 pods, so
 * the limit leaves room for tens of thousands of pods per instance; operators raise it in NODE_OPTIONS beyond that.
 */
export const CORRELATOR_NODE_OPTIONS = '--max-old-space-size=512';
