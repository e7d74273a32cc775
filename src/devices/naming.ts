/**
 * The one rule for what a device or node is called wherever it is shown (events, `devices list`,
 * `nodes pending|list`, `node.list`, explain, the Control UI): the owner's label once set
 * (`device.pair.rename`, `node.rename`), else the name the device declared. A device cannot name
 * itself over its owner: the label is only ever set by management.
 */

/** A device's or node's name: its owner's label, else its declared name; null when it has neither. */
export function shownName(
  label: string | null | undefined,
  declared: string | null | undefined,
): string | null {
  return label || declared || null;
}
