/**
 * The one module that reads `process.env`. Each function validates the variables one part of
 * the system needs and returns a frozen, typed object; handlers call them once at module scope,
 * so a missing or malformed variable fails the container at start-up with a message naming it.
 */
import { ConfigError } from './errors.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** CometChat regions; the SDK schemas also accept upper case, so we do too. */
export const COMETCHAT_REGIONS = ['us', 'eu', 'in'] as const;
export type CometChatRegion = (typeof COMETCHAT_REGIONS)[number];

/** Where the REST API key comes from: the key itself (local) or an SSM SecureString (deployed). */
export type SecretSource = { readonly value: string } | { readonly parameterName: string };

export interface CometChatConfig {
  readonly appId: string;
  readonly region: CometChatRegion;
  /** No trailing slash, e.g. `https://<appId>.call-us.cometchat.io/v3`. */
  readonly baseUrl: string;
  readonly apiKey: SecretSource;
}

export interface StoreConfig {
  readonly tableName: string;
}

export interface RecordingsConfig {
  readonly bucket: string;
  /** Empty, or ends with `/`. */
  readonly prefix: string;
  readonly allowedHosts: readonly string[];
  readonly forcePathStyle: boolean;
}

/** CometChat's own domains: where recordings may come from unless the operator says otherwise. */
export const DEFAULT_RECORDING_ALLOWED_HOSTS = ['*.cometchat.io', '*.cometchat.com'] as const;

const APP_ID = /^[A-Za-z0-9-]{1,63}$/;
const PARAMETER_NAME = /^[A-Za-z0-9_./-]{1,2048}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const TABLE = /^[A-Za-z0-9_.-]{3,255}$/;
const ALLOWED_HOST = /^(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`${name} is required but not set`);
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function matching(name: string, value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new ConfigError(`${name} is not ${what}`);
  return value;
}

function secretSource(env: Env, valueName: string, parameterName: string): SecretSource {
  const value = optional(env, valueName);
  if (value) return Object.freeze({ value });
  const parameter = optional(env, parameterName);
  if (parameter) {
    return Object.freeze({
      parameterName: matching(parameterName, parameter, PARAMETER_NAME, 'an SSM parameter name'),
    });
  }
  throw new ConfigError(`${valueName} or ${parameterName} is required but neither is set`);
}

/** CometChat app, region, base URL and key source. */
export function readCometChatConfig(env: Env = process.env): CometChatConfig {
  const appId = matching('COMETCHAT_APP_ID', required(env, 'COMETCHAT_APP_ID'), APP_ID, 'a CometChat app id');
  const rawRegion = required(env, 'COMETCHAT_REGION').toLowerCase();
  if (!(COMETCHAT_REGIONS as readonly string[]).includes(rawRegion)) {
    throw new ConfigError(`COMETCHAT_REGION must be one of ${COMETCHAT_REGIONS.join(', ')}`);
  }
  const region = rawRegion as CometChatRegion;
  const override = optional(env, 'COMETCHAT_BASE_URL');
  let baseUrl = `https://${appId}.call-${region}.cometchat.io/v3`;
  if (override) {
    let url: URL;
    try {
      url = new URL(override);
    } catch (cause) {
      throw new ConfigError('COMETCHAT_BASE_URL is not a URL', { cause });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConfigError('COMETCHAT_BASE_URL must be an http(s) URL');
    }
    if (url.username || url.password || url.search) {
      throw new ConfigError('COMETCHAT_BASE_URL must not carry credentials or a query string');
    }
    baseUrl = url.href.replace(/\/+$/, '');
  }
  return Object.freeze({
    appId,
    region,
    baseUrl,
    apiKey: secretSource(env, 'COMETCHAT_API_KEY', 'COMETCHAT_API_KEY_PARAMETER'),
  });
}

/** The DynamoDB table. */
export function readStoreConfig(env: Env = process.env): StoreConfig {
  return Object.freeze({
    tableName: matching('CALLS_TABLE', required(env, 'CALLS_TABLE'), TABLE, 'a DynamoDB table name'),
  });
}

/** The recordings bucket, key prefix and URL allowlist. */
export function readRecordingsConfig(env: Env = process.env): RecordingsConfig {
  const bucket = matching(
    'RECORDINGS_BUCKET',
    required(env, 'RECORDINGS_BUCKET'),
    BUCKET,
    'an S3 bucket name',
  );
  const rawPrefix = env.RECORDINGS_PREFIX ?? 'recordings/';
  if (rawPrefix.startsWith('/') || hasControlCharacter(rawPrefix)) {
    throw new ConfigError('RECORDINGS_PREFIX must not start with "/" or contain control characters');
  }
  const prefix = rawPrefix === '' || rawPrefix.endsWith('/') ? rawPrefix : `${rawPrefix}/`;
  const hostsValue = optional(env, 'RECORDING_ALLOWED_HOSTS');
  const allowedHosts = hostsValue
    ? hostsValue
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean)
        .map((h) => matching('RECORDING_ALLOWED_HOSTS', h, ALLOWED_HOST, `a host list (bad entry "${h}")`))
    : [...DEFAULT_RECORDING_ALLOWED_HOSTS];
  const pathStyle = optional(env, 'S3_FORCE_PATH_STYLE')?.toLowerCase();
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') {
    throw new ConfigError('S3_FORCE_PATH_STYLE must be "true" or "false"');
  }
  return Object.freeze({
    bucket,
    prefix,
    allowedHosts: Object.freeze(allowedHosts),
    forcePathStyle: pathStyle === 'true',
  });
}
