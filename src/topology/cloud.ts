/**
 * Microsoft 365 / Teams cloud addresses: a role of their own (`microsoft-365`), not a client or
 * an Edge Server of the customer's. The ranges are Microsoft's published "Office 365 URLs and IP
 * address ranges" for Skype for Business Online and Microsoft Teams, as stored in
 * ../shared/research/later-products.md section 3.4 (sources M365-23, M365-22, DR):
 *   - endpoints list version 2023073100, ID 11 (Optimize; media relays, UDP 3478-3481) and ID 12
 *     (Allow; signalling, TCP 443/80);
 *   - version 2022072800, ID 11, for the ranges it had that 2023073100 no longer lists (still in
 *     use by Direct Routing media, DR: "media IPs 52.112.0.0/14, 52.120.0.0/14").
 * The Direct Routing SIP proxies (sip.pstnhub.microsoft.com, 52.114.x) lie inside 52.112.0.0/14.
 */
import { addressWords, parsePrefix, prefixContains, type Prefix } from './address.js';

export const CLOUD_ROLE = 'microsoft-365';

export interface CloudRange {
  prefix: Prefix;
  /** The endpoints list version and ID the range comes from, in words. */
  source: string;
}

const ID11_2023 = 'Microsoft 365 endpoints list 2023073100, ID 11 (Teams media relays)';
const ID12_2023 = 'Microsoft 365 endpoints list 2023073100, ID 12 (Teams signalling)';
const ID11_2022 = 'Microsoft 365 endpoints list 2022072800, ID 11 (Teams media relays)';

const RANGES: ReadonlyArray<[string, string]> = [
  ['13.107.64.0/18', ID11_2023],
  ['52.112.0.0/14', ID11_2023],
  ['52.122.0.0/15', ID11_2023],
  ['2603:1063::/39', ID11_2023],
  ['52.238.119.141/32', ID12_2023],
  ['52.244.160.207/32', ID12_2023],
  ['2603:1027::/48', ID12_2023],
  ['2603:1037::/48', ID12_2023],
  ['2603:1047::/48', ID12_2023],
  ['2603:1057::/48', ID12_2023],
  ['2620:1ec:6::/48', ID12_2023],
  ['2620:1ec:40::/42', ID12_2023],
  ['52.120.0.0/14', ID11_2022],
  ['2603:1063::/38', ID11_2022],
];

export const CLOUD_RANGES: readonly CloudRange[] = RANGES.map(([text, source]) => ({
  prefix: parsePrefix(text),
  source,
}));

/** The published range an address lies in, if any (the most specific first, 2023 before 2022). */
export function cloudRange(address: string): CloudRange | undefined {
  const a = addressWords(address);
  if (a === undefined) return undefined;
  let best: CloudRange | undefined;
  for (const r of CLOUD_RANGES)
    if (
      prefixContains(r.prefix, a.version, a.words) &&
      (best === undefined || r.prefix.bits > best.prefix.bits)
    )
      best = r;
  return best;
}
