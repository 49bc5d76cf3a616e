/**
 * The one module that reads configuration from `process.env`. Each function validates the variables one part of
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
// S3 also refuses adjacent dots and names shaped like an IPv4 address.
const BUCKET = /^(?!.*\.\.)(?!\d{1,3}(\.\d{1,3}){3}$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const TABLE = /^[A-Za-z0-9_.-]{3,255}$/;
// host, host:port, [ipv6]:port, or *.suffix where the suffix is a name (a wildcard over an IP means nothing).
const ALLOWED_HOST =
  /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\*\.(?=[A-Za-z0-9.-]*[A-Za-z])[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

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
    // Paths are appended to the base, so a query or fragment (even an empty `?` or `#`) would swallow them.
    if (url.username || url.password || /[?#]/.test(url.href)) {
      throw new ConfigError('COMETCHAT_BASE_URL must not carry credentials, a query string or a fragment');
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
        .map((h) => {
          // The URL policy silently ignores an entry with an impossible port, so refuse it here.
          if (Number(/:(\d+)$/.exec(h)?.[1] ?? 0) > 65535) {
            throw new ConfigError(`RECORDING_ALLOWED_HOSTS is not a host list (bad port in "${h}")`);
          }
          return h;
        })
    : [...DEFAULT_RECORDING_ALLOWED_HOSTS];
  if (allowedHosts.length === 0) throw new ConfigError('RECORDING_ALLOWED_HOSTS lists no hosts');
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

/** The enrichment queue (an SQS FIFO queue): where the webhook and the backfill send work. */
export interface QueueConfig {
  readonly queueUrl: string;
}

/** The enrichment queue's dead-letter queue: where the `enrich` consumer parks permanent failures. */
export interface DeadLetterQueueConfig {
  readonly deadLetterQueueUrl: string;
  /** ENRICH_MAX_RECEIVE_COUNT: the enrichment queue's redrive maxReceiveCount, when set. */
  readonly maxReceiveCount?: number;
}

/** What the webhook checks callers against. */
export interface WebhookConfig {
  /** Only envelopes whose `appId` is this one are accepted (COMETCHAT_APP_ID). */
  readonly appId: string;
  /** `user:password` itself (local) or the SSM SecureString holding it (deployed). */
  readonly basicAuth: SecretSource;
}

// `user:password`: a non-empty user without a colon, then anything (CometChat allows alphanumerics).
const BASIC_CREDENTIALS = /^[^:\s]+:\S+$/;

function fifoQueueUrl(env: Env, name: string): string {
  const value = required(env, name);
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new ConfigError(`${name} is not a URL`, { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`${name} must be an http(s) URL`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError(`${name} must not carry credentials, a query string or a fragment`);
  }
  // Messages carry MessageGroupId and MessageDeduplicationId, which only FIFO queues take.
  if (!url.pathname.endsWith('.fifo')) throw new ConfigError(`${name} must name a FIFO queue (".fifo")`);
  return value;
}

/** The enrichment queue URL (ENRICH_QUEUE_URL). */
export function readQueueConfig(env: Env = process.env): QueueConfig {
  return Object.freeze({ queueUrl: fifoQueueUrl(env, 'ENRICH_QUEUE_URL') });
}

/** The dead-letter queue URL (ENRICH_DLQ_URL) and the queue's redrive maxReceiveCount (ENRICH_MAX_RECEIVE_COUNT). */
export function readDeadLetterQueueConfig(env: Env = process.env): DeadLetterQueueConfig {
  const deadLetterQueueUrl = fifoQueueUrl(env, 'ENRICH_DLQ_URL');
  // SQS takes a maxReceiveCount from 1 to 1000.
  const maxReceiveCount =
    optional(env, 'ENRICH_MAX_RECEIVE_COUNT') === undefined
      ? undefined
      : wholeNumber(env, 'ENRICH_MAX_RECEIVE_COUNT', 1, 1, 1000);
  return Object.freeze({ deadLetterQueueUrl, ...(maxReceiveCount !== undefined && { maxReceiveCount }) });
}

/** The webhook's app id and Basic-auth credentials source. */
export function readWebhookConfig(env: Env = process.env): WebhookConfig {
  const appId = matching('COMETCHAT_APP_ID', required(env, 'COMETCHAT_APP_ID'), APP_ID, 'a CometChat app id');
  const basicAuth = secretSource(env, 'WEBHOOK_BASIC_AUTH', 'WEBHOOK_BASIC_AUTH_PARAMETER');
  if ('value' in basicAuth && !BASIC_CREDENTIALS.test(basicAuth.value)) {
    // Never echo the value: it is a credential.
    throw new ConfigError('WEBHOOK_BASIC_AUTH must look like "user:password"');
  }
  return Object.freeze({ appId, basicAuth });
}

/** What a user may tune of the backfill; the rest are constants in lib/backfill/backfill.ts. */
export interface BackfillConfig {
  /** COMETCHAT_REQUESTS_PER_MINUTE (default 300): List Calls requests the backfill may spend a minute. */
  readonly requestsPerMinute: number;
  /** BACKFILL_OVERLAP_SECONDS (default 3600): taken off the checkpoint when `from` is not given. */
  readonly overlapSeconds: number;
  /** BACKFILL_QUEUE_THRESHOLD (default 5000): a larger backlog goes to the state machine. */
  readonly queueThreshold: number;
  /** BACKFILL_STATE_MACHINE_ARN: the backfill state machine; without it everything is queued. */
  readonly stateMachineArn?: string;
}

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

function wholeNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** The backfill's settings; every variable is optional. */
export function readBackfillConfig(env: Env = process.env): BackfillConfig {
  const arn = optional(env, 'BACKFILL_STATE_MACHINE_ARN');
  return Object.freeze({
    requestsPerMinute: wholeNumber(env, 'COMETCHAT_REQUESTS_PER_MINUTE', 300, 1, 1_000_000),
    overlapSeconds: wholeNumber(env, 'BACKFILL_OVERLAP_SECONDS', 3600, 0, 30 * 86_400),
    queueThreshold: wholeNumber(env, 'BACKFILL_QUEUE_THRESHOLD', 5000, 0, 10_000_000),
    ...(arn
      ? {
          stateMachineArn: matching(
            'BACKFILL_STATE_MACHINE_ARN',
            arn,
            STATE_MACHINE_ARN,
            'a state machine ARN',
          ),
        }
      : {}),
  });
}

/** The placeholders ARCHIVE_KEY_TEMPLATE may use (contract, "Objects (S3)"). */
export const ARCHIVE_KEY_PLACEHOLDERS = ['sessionId', 'yyyy', 'mm', 'dd', 'appId'] as const;

// Besides placeholders, only characters S3 keys take without encoding (and '=' for `day=` folders).
const KEY_TEMPLATE_LITERAL = /^[A-Za-z0-9/_.=-]*$/;
// Worst cases, so a template that passes here can never build a key over S3's 1,024 bytes:
// an id segment (lib/recordings/object-key.ts shortens longer ones), an app id, and the file
// part after the folder (`/transcripts/<id>.<ext>`).
const MAX_ID_SEGMENT_BYTES = 200;
const MAX_APP_ID_BYTES = 63;
const FILE_PART_BYTES = 220;
const PLACEHOLDER_BYTES = {
  sessionId: MAX_ID_SEGMENT_BYTES,
  yyyy: 4,
  mm: 2,
  dd: 2,
  appId: MAX_APP_ID_BYTES,
} as const;

/**
 * ARCHIVE_KEY_TEMPLATE: where a call's folder goes under RECORDINGS_PREFIX, e.g.
 * `{yyyy}/{mm}/{dd}/{sessionId}`; undefined when unset (the folder is `<sessionId>`). Returned
 * without a trailing `/`. Must hold `{sessionId}`, only the known placeholders, no empty, `.` or
 * `..` segment, and stay within S3's key limit whatever the ids hold.
 */
export function readArchiveKeyTemplate(env: Env = process.env): string | undefined {
  const raw = optional(env, 'ARCHIVE_KEY_TEMPLATE');
  if (raw === undefined) return undefined;
  const template = raw.endsWith('/') ? raw.slice(0, -1) : raw;
  const known = ARCHIVE_KEY_PLACEHOLDERS as readonly string[];
  const names = [...template.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? '');
  const unknown = names.find((name) => !known.includes(name));
  if (unknown !== undefined) {
    throw new ConfigError(
      `ARCHIVE_KEY_TEMPLATE has an unknown placeholder {${unknown}} (known: ${known.map((n) => `{${n}}`).join(', ')})`,
    );
  }
  if (!names.includes('sessionId')) throw new ConfigError('ARCHIVE_KEY_TEMPLATE must contain {sessionId}');
  const literal = template.replace(/\{(sessionId|yyyy|mm|dd|appId)\}/g, '');
  if (!KEY_TEMPLATE_LITERAL.test(literal)) {
    throw new ConfigError(
      'ARCHIVE_KEY_TEMPLATE may hold only letters, digits, "/", "_", ".", "=", "-" and placeholders',
    );
  }
  if (template.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new ConfigError(
      'ARCHIVE_KEY_TEMPLATE must not start with "/" or hold an empty, "." or ".." segment',
    );
  }
  const expanded = template.replace(
    /\{(sessionId|yyyy|mm|dd|appId)\}/g,
    (_, name: keyof typeof PLACEHOLDER_BYTES) => 'x'.repeat(PLACEHOLDER_BYTES[name]),
  );
  const prefix = env.RECORDINGS_PREFIX ?? 'recordings/';
  if (Buffer.byteLength(prefix) + expanded.length + FILE_PART_BYTES > 1024) {
    throw new ConfigError(
      "ARCHIVE_KEY_TEMPLATE is too long: with RECORDINGS_PREFIX, keys could exceed S3's 1,024 bytes",
    );
  }
  return template;
}

/** Where CallArchived / CallArchiveFailed events go (EVENT_BUS_NAME); absent: none are sent. */
export interface EventsConfig {
  /** A bus name or ARN, as PutEvents takes it. */
  readonly busName: string;
}

const EVENT_BUS =
  /^[A-Za-z0-9._-]{1,256}$|^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._/-]{1,256}$/;

/** EVENT_BUS_NAME, or undefined when unset. */
export function readEventsConfig(env: Env = process.env): EventsConfig | undefined {
  const busName = optional(env, 'EVENT_BUS_NAME');
  if (busName === undefined) return undefined;
  return Object.freeze({
    busName: matching('EVENT_BUS_NAME', busName, EVENT_BUS, 'an EventBridge bus name or ARN'),
  });
}

/** How long calls and their files are kept (RETENTION_DAYS); absent: for ever. */
export interface RetentionConfig {
  /** Whole days after which a call item, its index items and files expire unless held. */
  readonly days: number;
  /** The attribute DynamoDB's TTL reads (infra/calls-table.yml): Unix seconds. */
  readonly ttlAttribute: typeof RETENTION_TTL_ATTRIBUTE;
}

/** The call and index items' TTL attribute (Unix seconds); absent on a held call. */
export const RETENTION_TTL_ATTRIBUTE = 'expiresAt';

/** RETENTION_DAYS (1 to 36500), or undefined when unset or 0. */
export function readRetentionConfig(env: Env = process.env): RetentionConfig | undefined {
  const days = wholeNumber(env, 'RETENTION_DAYS', 0, 0, 36_500);
  return days === 0 ? undefined : Object.freeze({ days, ttlAttribute: RETENTION_TTL_ATTRIBUTE });
}

/** Where the erasure salt comes from: the salt itself (local) or a Secrets Manager secret (deployed). */
export type ErasureSaltSource = { readonly value: string } | { readonly secretId: string };

/** Shorter salts are guessable; the generated secret is 64 characters. */
export const MIN_ERASURE_SALT_LENGTH = 16;

/** ERASURE_SALT or ERASURE_SALT_SECRET, or undefined when neither is set. */
export function readErasureSalt(env: Env = process.env): ErasureSaltSource | undefined {
  const value = optional(env, 'ERASURE_SALT');
  if (value !== undefined) {
    if (value.length < MIN_ERASURE_SALT_LENGTH) {
      throw new ConfigError(`ERASURE_SALT must be at least ${MIN_ERASURE_SALT_LENGTH} characters`);
    }
    return Object.freeze({ value });
  }
  const secretId = optional(env, 'ERASURE_SALT_SECRET');
  return secretId === undefined ? undefined : Object.freeze({ secretId });
}
