/**
 * The Powertools logger every function shares, with a JSON replacer that keeps secrets out of
 * log lines even when a careless caller hands them over: credential-looking keys are redacted
 * and every URL loses its query string (recording URLs may be signed) and any credentials.
 */
import { Logger } from '@aws-lambda-powertools/logger';

const SECRET_KEY =
  /^(apikey|api[-_]?key|authorization|x-api-key|password|secret|token|signature|credentials?)$/i;
// Matches the query part of any absolute URL inside a string.
const URL_QUERY = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>]*)\?[^\s#"'<>]*/gi;
// Matches the `user:password@` of any absolute URL inside a string, up to the authority's last
// `@` as URL parsers read it (a raw `@` may sit in a password).
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>]+@/gi;
// Auth schemes are case-insensitive (RFC 9110), so `authorization: bearer …` must go too.
const BASIC_OR_BEARER = /\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]+/gi;

/** Removes signed query strings, credentials in URLs and credential tokens from free text. */
export function redactText(text: string): string {
  return text
    .replace(URL_QUERY, '$1?[redacted]')
    .replace(URL_USERINFO, '$1[redacted]@')
    .replace(BASIC_OR_BEARER, '$1 [redacted]');
}

/** JSON replacer used by the logger: redacts secret-named keys and strips URL query strings. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && SECRET_KEY.test(key)) return '[redacted]';
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** The shared logger; Powertools reads its service name and level from POWERTOOLS_* variables. */
export const logger = new Logger({ jsonReplacerFn: redactingReplacer });
