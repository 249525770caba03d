/**
 * Decides whether an autonomous system is a data-center / hosting / transit network, i.e. whether
 * addresses it announces get the IP2Location usage type `DCH`.
 *
 * Rule (evaluated once per AS when the ASN table is loaded, see {@link isHostingNetwork}):
 *  1. The AS number is in {@link HOSTING_ASNS}, a curated list of well-known cloud, hosting, CDN
 *     and transit-backbone networks (every entry was checked against the AS organisation name in
 *     the shipped `@ip-location-db/asn` data), or
 *  2. the AS organisation name contains an unambiguous data-center word (hosting, data center,
 *     colocation, IDC, ...), or
 *  3. it contains a weaker hosting word (cloud, server, VPS, dedicated, ...) and no word of an
 *     access network (broadband, wireless, cable, mobile, ...): "Cloud 9 Wireless" or
 *     "VPS Broadband" are ISPs, "Hetzner Cloud" or "Servers.com" are not.
 *
 * No npm package ships an offline data-center range list (the ones found query a web API at run
 * time), hence the curated list plus name heuristic over the shipped ASN data.
 */

/** Well-known hosting/cloud/CDN/transit AS numbers, grouped by operator. */
export const HOSTING_ASNS: ReadonlyMap<number, string> = new Map<number, string>([
  // Amazon Web Services
  [16509, 'Amazon'],
  [14618, 'Amazon'],
  [8987, 'Amazon'],
  [7224, 'Amazon'],
  // Google (incl. Google Cloud, not Google Fiber AS16591 which is a consumer ISP)
  [15169, 'Google'],
  [396982, 'Google Cloud'],
  [19527, 'Google'],
  [36040, 'Google'],
  [36492, 'Google'],
  [139070, 'Google'],
  // Microsoft Azure
  [8075, 'Microsoft'],
  [8068, 'Microsoft'],
  [8069, 'Microsoft'],
  [12076, 'Microsoft'],
  // Hetzner
  [24940, 'Hetzner'],
  [213230, 'Hetzner'],
  [212317, 'Hetzner'],
  // OVHcloud
  [16276, 'OVH'],
  [35540, 'OVH'],
  // DigitalOcean
  [14061, 'DigitalOcean'],
  [393406, 'DigitalOcean'],
  // Akamai (incl. Linode)
  [63949, 'Akamai/Linode'],
  [20940, 'Akamai'],
  [16625, 'Akamai'],
  [12222, 'Akamai'],
  [32787, 'Akamai'],
  // Vultr (The Constant Company)
  [20473, 'Vultr'],
  // Oracle Cloud
  [31898, 'Oracle'],
  // Alibaba Cloud
  [45102, 'Alibaba'],
  [37963, 'Alibaba'],
  [24429, 'Alibaba'],
  [134963, 'Alibaba'],
  // Tencent Cloud
  [45090, 'Tencent'],
  [132203, 'Tencent'],
  [133478, 'Tencent'],
  // Huawei Cloud
  [136907, 'Huawei Cloud'],
  [55990, 'Huawei Cloud'],
  // IBM Cloud
  [36351, 'IBM Cloud'],
  // Scaleway
  [12876, 'Scaleway'],
  // Contabo
  [51167, 'Contabo'],
  [40021, 'Contabo'],
  [141995, 'Contabo'],
  // Leaseweb
  [60781, 'Leaseweb'],
  [16265, 'Leaseweb'],
  [28753, 'Leaseweb'],
  [30633, 'Leaseweb'],
  [19148, 'Leaseweb'],
  [7203, 'Leaseweb'],
  [59253, 'Leaseweb'],
  // Cloudflare
  [13335, 'Cloudflare'],
  [209242, 'Cloudflare'],
  [132892, 'Cloudflare'],
  [14789, 'Cloudflare'],
  [202623, 'Cloudflare'],
  [395747, 'Cloudflare'],
  // Fastly
  [54113, 'Fastly'],
  // Rackspace
  [19994, 'Rackspace'],
  [33070, 'Rackspace'],
  [27357, 'Rackspace'],
  // Other hosting / VPS providers
  [9009, 'M247'],
  [47583, 'Hostinger'],
  [36352, 'HostPapa/ColoCrossing'],
  [40676, 'Psychz'],
  [8100, 'QuadraNet'],
  [8560, 'IONOS'],
  [6724, 'Strato'],
  [197540, 'netcup'],
  [31034, 'Aruba'],
  [202053, 'UpCloud'],
  [54825, 'Equinix Metal'],
  [21859, 'Zenlayer'],
  [199524, 'G-Core Labs'],
  [36007, 'Kamatera'],
  [60068, 'Datacamp/CDN77'],
  [212238, 'Datacamp/CDN77'],
  [51852, 'Private Layer'],
  [29802, 'Hivelocity'],
  [61317, 'Hivelocity'],
  [53667, 'FranTech/BuyVM'],
  [46606, 'Unified Layer'],
  [26347, 'DreamHost'],
  [22612, 'Namecheap'],
  [62240, 'Clouvider'],
  [9370, 'Sakura Internet'],
  [2635, 'Automattic'],
  [63023, 'GTHost'],
  [23470, 'ReliableSite'],
  [25820, 'IT7 Networks'],
  [35916, 'Multacom'],
  [398101, 'GoDaddy'],
  [49981, 'WorldStream'],
  [136787, 'PacketHub'],
  // Transit backbones (IP2Location's DCH covers "transit" too)
  [174, 'Cogent'],
  [1299, 'Arelion'],
  [2914, 'NTT'],
  [3257, 'GTT'],
  [3356, 'Lumen/Level 3'],
  [6461, 'Zayo'],
  [6939, 'Hurricane Electric'],
]);

/** Words that on their own identify a data-center / hosting operator. */
const STRONG_HOSTING_NAME =
  /hosting|\bhoster\b|\bweb ?host|data ?cent(?:er|re)s?\b|datacent(?:er|re)|colocation|\bcolo\b|\bidc\b/i;

/** Words that usually identify a hosting operator, unless the name also reads like an ISP. */
const WEAK_HOSTING_NAME = /cloud|(?<!ob)server|\bvps\b|\bvds\b|\bdedicated\b|\bhost\b/i;

/** Words of consumer access networks; they veto {@link WEAK_HOSTING_NAME}. */
const ACCESS_NETWORK_NAME = /broadband|wireless|\bcable\b|mobile|cellular|\bdsl\b|\bftth\b/i;

/** True when the AS should be reported as `DCH` (see the rule at the top of this file). */
export function isHostingNetwork(asn: number, organisation: string): boolean {
  if (HOSTING_ASNS.has(asn)) return true;
  if (STRONG_HOSTING_NAME.test(organisation)) return true;
  return WEAK_HOSTING_NAME.test(organisation) && !ACCESS_NETWORK_NAME.test(organisation);
}
