/**
 * The contract's recording URL policy: which URLs a recording may be downloaded from, decided
 * before a byte is sent. Recording URLs come from CometChat's payload, so they are untrusted
 * input: without this, a crafted URL could make the function read cloud metadata or internal
 * services (SSRF). Messages name the host and the reason, never the path or query string
 * (a signed URL's query string is a credential).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { RecordingDownloadError, RecordingRejectedError } from '../errors.ts';

/** One resolved address, as `dns.promises.lookup(host, { all: true })` gives it. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all its addresses; injectable so tests need no real DNS. */
export type LookupFn = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** Where recordings may come from. */
export interface UrlPolicy {
  /** Entries `host`, `host:port`, `*.suffix`, `*.suffix:port`, `[ipv6]`, `[ipv6]:port`. */
  readonly allowedHosts: readonly string[];
  /** DNS resolution; defaults to `dns.promises.lookup(host, { all: true })`. */
  readonly lookup?: LookupFn;
}

/** A URL that passed the policy, and the address the connection must be pinned to. */
export interface VettedUrl {
  url: URL;
  address: string;
  family: 4 | 6;
}

interface HostRule {
  /** Canonical host (bracketed for IPv6), or the suffix of a wildcard. */
  host: string;
  port: number | undefined;
  wildcard: boolean;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'https:': 443, 'http:': 80 };

// Everything IANA lists as not globally reachable, plus multicast and the reserved block.
const NON_PUBLIC_V4: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8], // "this network", including the unspecified 0.0.0.0
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, including the 169.254.169.254 metadata service
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, including broadcast
];

// Inside global unicast (2000::/3), the blocks that are not globally reachable. Everything
// outside 2000::/3 (::, ::1, fc00::/7, fe80::/10, ff00::/8, fd00:ec2::254, ...) is refused
// outright, except the two prefixes that embed an IPv4 address, which are judged by it.
const NON_PUBLIC_V6_IN_GLOBAL: readonly (readonly [string, number])[] = [
  ['2001::', 23], // IETF protocol assignments, including Teredo
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: reaches whatever IPv4 address it embeds
  ['3fff::', 20], // documentation
];

function blockList(entries: readonly (readonly [string, number])[], type: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of entries) list.addSubnet(network, prefix, type);
  return list;
}

const V4_BLOCKED = blockList(NON_PUBLIC_V4, 'ipv4');
const V6_GLOBAL = blockList([['2000::', 3]], 'ipv6');
const V6_BLOCKED = blockList(NON_PUBLIC_V6_IN_GLOBAL, 'ipv6');

/** Expands a (canonical, zone-less) IPv6 address into its eight 16-bit groups. */
function ipv6Groups(address: string): number[] | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined) =>
    part ? part.split(':').map((g) => Number.parseInt(g, 16)) : [];
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

function embeddedIpv4(groups: readonly number[]): string | undefined {
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  const mapped = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff;
  const nat64 = g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0;
  if (!mapped && !nat64) return undefined;
  return [g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff].join('.');
}

/**
 * True when `address` (an IPv4 or IPv6 literal, IPv6 with or without brackets) is globally
 * reachable unicast: not private, loopback, link-local, metadata, unspecified, multicast, CGNAT,
 * documentation or reserved. Anything it cannot parse (zone ids included) counts as not public.
 */
export function isPublicAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const version = isIP(bare);
  if (version === 4) return !V4_BLOCKED.check(bare, 'ipv4');
  if (version !== 6) return false;
  let canonical: string;
  try {
    // The URL parser canonicalises IPv6 (dotted tails become hex, zeros compress), so the
    // checks below only ever see one spelling of each address.
    canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return false;
  }
  const groups = ipv6Groups(canonical);
  if (!groups) return false;
  const v4 = embeddedIpv4(groups);
  if (v4 !== undefined) return !V4_BLOCKED.check(v4, 'ipv4');
  return V6_GLOBAL.check(canonical, 'ipv6') && !V6_BLOCKED.check(canonical, 'ipv6');
}

/** Parses one allowlist entry; an entry it cannot read matches nothing. */
function parseRule(entry: string): HostRule | undefined {
  const trimmed = entry.trim().toLowerCase();
  const wildcard = trimmed.startsWith('*.');
  const rest = wildcard ? trimmed.slice(2) : trimmed;
  if (!rest || rest.includes('/') || rest.includes('@') || rest.includes('*')) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(`http://${rest}/`);
  } catch {
    return undefined;
  }
  const host = stripTrailingDot(parsed.hostname);
  // `http://host:80/` drops the port, so read an explicit one from the entry itself.
  const portMatch = /:(\d{1,5})$/.exec(rest);
  const port = portMatch?.[1] !== undefined ? Number(portMatch[1]) : undefined;
  if (!host || (port !== undefined && port > 65535)) return undefined;
  if (wildcard && isIpLiteral(host)) return undefined;
  return { host, port, wildcard };
}

function stripTrailingDot(hostname: string): string {
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
}

function isIpLiteral(hostname: string): boolean {
  return isIP(hostname.startsWith('[') ? hostname.slice(1, -1) : hostname) !== 0;
}

function effectivePort(url: URL): number {
  return url.port ? Number(url.port) : (DEFAULT_PORTS[url.protocol] ?? 0);
}

interface HostMatch {
  allowed: boolean;
  /** Matched by a non-wildcard entry: the operator named this very host (and port). */
  exact: boolean;
}

function matchHost(url: URL, allowedHosts: readonly string[]): HostMatch {
  const host = stripTrailingDot(url.hostname);
  const port = effectivePort(url);
  const literal = isIpLiteral(host);
  let allowed = false;
  let exact = false;
  for (const entry of allowedHosts) {
    const rule = parseRule(entry);
    if (!rule || (rule.port !== undefined && rule.port !== port)) continue;
    if (!rule.wildcard && rule.host === host) {
      allowed = true;
      exact = true;
    } else if (rule.wildcard && !literal && host.endsWith(`.${rule.host}`)) {
      allowed = true;
    }
  }
  return { allowed, exact };
}

function reject(message: string): never {
  throw new RecordingRejectedError(`recording URL refused: ${message}`);
}

function checkWithMatch(url: string, policy: UrlPolicy): { url: URL; match: HostMatch } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The input itself is never echoed: it may be a signed URL.
    return reject('not a valid absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return reject(`scheme ${JSON.stringify(parsed.protocol)} is not allowed`);
  }
  const host = parsed.host;
  if (!parsed.hostname) return reject('the URL has no host');
  if (parsed.username || parsed.password) return reject(`URL for host ${host} carries credentials`);
  const match = matchHost(parsed, policy.allowedHosts);
  if (!match.allowed) return reject(`host ${host} is not on the allowed list`);
  if (parsed.protocol === 'http:' && !match.exact) {
    return reject(`host ${host} may only be fetched over https (http needs the exact host listed)`);
  }
  if (isIpLiteral(parsed.hostname) && !match.exact && !isPublicAddress(parsed.hostname)) {
    return reject(`host ${host} is a private, loopback, link-local or reserved address`);
  }
  return { url: parsed, match };
}

/** Static checks only (no I/O). Returns the parsed URL or throws `RecordingRejectedError`. */
export function checkRecordingUrl(url: string, policy: UrlPolicy): URL {
  return checkWithMatch(url, policy).url;
}

const defaultLookup: LookupFn = (hostname) => dnsLookup(hostname, { all: true, order: 'verbatim' });

/**
 * Static checks, then DNS: every address the host resolves to must be public unless the host is
 * listed exactly (a wildcard never vouches for a private address). Returns the address the
 * connection must use, so a second, different DNS answer cannot slip past the check.
 * Throws `RecordingRejectedError` (policy) or `RecordingDownloadError` (DNS failure: may pass later).
 */
export async function vetRecordingUrl(url: string, policy: UrlPolicy): Promise<VettedUrl> {
  const { url: parsed, match } = checkWithMatch(url, policy);
  const host = parsed.host;
  const hostname = parsed.hostname;
  if (isIpLiteral(hostname)) {
    const address = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    return { url: parsed, address, family: isIP(address) === 6 ? 6 : 4 };
  }
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await (policy.lookup ?? defaultLookup)(hostname);
  } catch (cause) {
    throw new RecordingDownloadError(`could not resolve recording host ${host}`, { cause });
  }
  if (addresses.length === 0) throw new RecordingDownloadError(`recording host ${host} has no addresses`);
  for (const { address } of addresses) {
    const version = isIP(address);
    if (version === 0) reject(`host ${host} resolved to something that is not an address`);
    if (!match.exact && !isPublicAddress(address)) {
      reject(`host ${host} resolves to ${address}, a private, loopback, link-local or reserved address`);
    }
  }
  // Checked non-empty above.
  const first = addresses[0] as ResolvedAddress;
  return { url: parsed, address: first.address, family: isIP(first.address) === 6 ? 6 : 4 };
}
