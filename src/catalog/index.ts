/** The catalog stage: which ports each Lync role needs, loaded, checked and matched. */
export { CatalogError } from './errors.js';
export type * from './types.js';
export { ANY_PEER } from './types.js';
export { DIFF_FIELDS, diffCatalogs, type CatalogDiff, type DiffField, type RowDiff } from './diff.js';
export { DEFAULT_PRODUCT, CATALOG_DIR, listProducts, loadCatalog } from './load.js';
export { formatRange, inRanges, parsePorts, type PortRange } from './ports.js';
export {
  assertRole,
  coversAny,
  describeRoles,
  hostRoles,
  isKnownRole,
  rowsForHost,
  rowsForRole,
} from './roles.js';
export { fixedServicePorts, matchRows, rowsBetween, type MatchQuery } from './match.js';
export {
  MEDIA_KINDS,
  MEDIA_PORT_KEYS,
  MEDIA_SCOPES,
  applyMediaPortOverrides,
  mediaScope,
  parseMediaPortOverride,
  parseMediaPortOverrides,
  type MediaPortOverrides,
} from './media.js';
