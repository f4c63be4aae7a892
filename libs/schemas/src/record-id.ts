/**
 * The document id of a restart record: a stable function of (pod uid, container, restart count), so
 * re-processing the same input updates the same document instead of adding one. Readable on purpose:
 * operators paste it into Kibana, and Elasticsearch ids may be up to 512 bytes.
 */
export function restartRecordId(podUid: string, container: string, restartCount: number): string {
  return `${podUid}:${container}:${restartCount}`;
}
