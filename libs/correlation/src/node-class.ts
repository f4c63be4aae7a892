/**
 * Node classes (issue 13): init time depends on the hardware (a GPU host agent binds every GPU to vfio-pci), so
 * init durations and probe budgets are grouped by the values of a configured list of node labels.
 */

/** Labels that tell hardware configurations apart, in the order they appear in a class name. */
export const DEFAULT_NODE_CLASS_LABELS: readonly string[] = [
  'node.kubernetes.io/instance-type',
  'nvidia.com/gpu.present',
  'nvidia.com/gpu.product',
  'feature.node.kubernetes.io/pci-10de.present',
];

/** The class of nodes without any of the labels. */
export const UNLABELLED_CLASS = '(no class labels)';

/** `name=value` of the configured labels the node has (name: the key after its last `/`), comma-separated; UNLABELLED_CLASS when it has none. */
export function nodeClassOf(labels: Readonly<Record<string, string>>, keys: readonly string[] = DEFAULT_NODE_CLASS_LABELS): string {
  const parts: string[] = [];
  for (const key of keys) {
    const value = labels[key];
    // The key's name without its prefix (`nvidia.com/`): short enough to read in a basis, still unambiguous.
    if (value !== undefined) parts.push(`${key.slice(key.lastIndexOf('/') + 1)}=${value}`);
  }
  return parts.length > 0 ? parts.join(',') : UNLABELLED_CLASS;
}
