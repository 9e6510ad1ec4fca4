/**
 * Money helpers: amounts stay integers in minor units (tiyin for UZS, cents for USD) and are
 * rendered as decimal strings with BigInt arithmetic, never through floating point.
 *
 * The API's `*_minor` fields are int64, but every amount this API serves is below 2^53, so
 * `JSON.parse` yields exact JavaScript numbers. {@link assertMinor} enforces that promise: a
 * value that is not a safe integer is rejected instead of being silently rounded. The helpers
 * also accept `bigint` for callers who keep amounts as BigInt.
 */

/** Minor-unit exponent per ISO 4217 code where it is not 2. */
const EXPONENTS = new Map([
  ['JPY', 0], ['KRW', 0], ['VND', 0], ['ISK', 0], ['CLP', 0],
  ['KWD', 3], ['BHD', 3], ['OMR', 3], ['JOD', 3], ['TND', 3], ['LYD', 3], ['IQD', 3],
]);

/**
 * Number of minor-unit digits for a currency (2 unless ISO 4217 says otherwise).
 * @param {string} currency ISO 4217 alpha code
 * @returns {number}
 */
export function currencyExponent(currency) {
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
    throw new TypeError(`currency must be an ISO 4217 alpha code like "UZS", got ${JSON.stringify(currency)}`);
  }
  return EXPONENTS.get(currency) ?? 2;
}

/**
 * Check that a value is an exact minor-unit amount and return it unchanged.
 * @template {number|bigint} T
 * @param {T} value
 * @param {string} [name] what the value is, for the error message
 * @returns {T}
 */
export function assertMinor(value, name = 'amount') {
  if (typeof value === 'bigint') return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be an integer number of minor units below 2^53, got ${String(value)}`);
  }
  return value;
}

/**
 * Render minor units as a decimal string: `formatMinor(-15200000, 'UZS')` is `"-152000.00"`.
 * @param {number|bigint} minor
 * @param {string} currency
 * @returns {string}
 */
export function formatMinor(minor, currency) {
  const exponent = currencyExponent(currency);
  const value = BigInt(assertMinor(minor));
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent === 0 ? '' : `.${digits.slice(digits.length - exponent)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/**
 * Parse a decimal string into minor units without floats: `parseAmount("-152000.5", "UZS")` is
 * `-15200050`. More fraction digits than the currency has is an error, not a rounding.
 * @param {string} text
 * @param {string} currency
 * @returns {number}
 */
export function parseAmount(text, currency) {
  const exponent = currencyExponent(currency);
  const match = typeof text === 'string' ? /^(-?)(\d+)(?:\.(\d+))?$/.exec(text) : null;
  if (!match) {
    throw new TypeError(`amount must be a decimal string like "-152000.00", got ${JSON.stringify(text)}`);
  }
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > exponent) {
    throw new RangeError(`amount ${text} has more than ${exponent} decimal places for ${currency}`);
  }
  const minor = BigInt(whole + fraction.padEnd(exponent, '0')) * (sign ? -1n : 1n);
  return toSafeNumber(minor, `amount ${text}`);
}

/**
 * Sum minor-unit amounts exactly (BigInt inside); the result must still be a safe integer.
 * @param {Iterable<number|bigint>} amounts
 * @returns {number}
 */
export function sumMinor(amounts) {
  let total = 0n;
  for (const amount of amounts) total += BigInt(assertMinor(amount));
  return toSafeNumber(total, 'sum');
}

/**
 * @param {bigint} value
 * @param {string} name
 * @returns {number}
 */
function toSafeNumber(value, name) {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${name} does not fit a safe integer (|x| < 2^53)`);
  }
  return Number(value);
}
