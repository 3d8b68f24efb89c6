/**
 * Secret redaction for every line the service writes (logs, error messages, CLI output).
 *
 * Covered forms:
 * - URL user info: `scheme://user:password@host` → `scheme://user:***@host`. The password may hold
 *   characters a careless URL leaves unescaped (`@`, `:`, `/`); everything up to the last `@` of the
 *   URL is hidden, which can over-redact, never under-redact.
 * - key=value secrets in query strings and libpq DSNs: `?password=…`, `sslpassword=…`, `apikey=…`,
 *   `api_key=…`, `token=…`, `secret=…`.
 * - JSON properties with such names: `"password":"…"`, `"apiKey":"…"`, `"TEMPORAL_API_KEY":"…"`.
 * - HTTP authorisation values: `Bearer …`, `Basic …`.
 */
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^\s:@/"'<>]*:)[^\s"'<>]*@(?=[^\s"'<>@]*(?:[\s"'<>]|$))/gi;
const SECRET_NAMES =
  'password|pgpassword|passwd|pwd|sslpassword|sslkey_password|api[_-]?key|apikey|access[_-]?token|token|secret|client[_-]?secret|hmac[_-]?key';
const KEY_VALUE = new RegExp(`(\\b(?:${SECRET_NAMES})\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'|[^\\s&;,"']+)`, 'gi');
const JSON_PROPERTY = new RegExp(`("(?:[A-Za-z0-9_]*_)?(?:${SECRET_NAMES})"\\s*:\\s*")((?:[^"\\\\]|\\\\.)*)"`, 'gi');
const AUTHORIZATION = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g;

/** Replaces every secret the forms above recognise with `***`. */
export function redactSecrets(text: string): string {
  if (typeof text !== 'string') text = String(text);
  return text.replace(URL_USERINFO, '$1***@').replace(KEY_VALUE, '$1***').replace(JSON_PROPERTY, '$1***"').replace(AUTHORIZATION, '$1 ***');
}

/** A connection URL without its password, for messages that must name the target. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const name of [...u.searchParams.keys()]) if (new RegExp(`^(?:${SECRET_NAMES})$`, 'i').test(name)) u.searchParams.set(name, '***');
    return u.toString();
  } catch {
    return redactSecrets(url);
  }
}
