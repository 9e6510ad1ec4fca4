"""Postman script snippets (JavaScript) for the generated Trastpay collection.

Each function returns the lines of one ``exec`` block. They implement the login chain (OTP read
through the sandbox hook, tokens kept in the environment, rotation and reuse checks) and the
response checks every data request shares: status, an ``items`` array, integer ``*_minor``.
Secrets (OTP, tokens) are kept in variables only; no script logs them.
"""

from __future__ import annotations

import json

_MINOR_CHECK = [
    "const minorFields = [];",
    "(function walk(value, path) {",
    "  if (Array.isArray(value)) { value.forEach((v, i) => walk(v, path + '[' + i + ']')); return; }",
    "  if (value === null || typeof value !== 'object') { return; }",
    "  Object.keys(value).forEach((key) => {",
    "    if (key.endsWith('_minor')) { minorFields.push([path + '.' + key, value[key]]); }",
    "    walk(value[key], path + '.' + key);",
    "  });",
    "})(body, '$');",
    "pm.test('*_minor amounts are integers (never floats)', () => {",
    "  minorFields.forEach(([path, v]) => pm.expect(v === null || Number.isInteger(v), path).to.be.true);",
    "});",
]

_SEND_OTP = [
    "const baseUrl = pm.variables.replaceIn('{{base_url}}');",
    "const phone = pm.environment.get('phone');",
    "pm.sendRequest({",
    "  url: baseUrl + '/api/v1/trastpay/auth/otp', method: 'POST',",
    "  header: { 'Content-Type': 'application/json' },",
    "  body: { mode: 'raw', raw: JSON.stringify({ phone }) },",
    "}, (otpError) => {",
    "  if (otpError) { throw otpError; }",
]

_READ_OTP = [
    "  pm.sendRequest(baseUrl + '/_sandbox/otp?phone=' + encodeURIComponent(phone), (error, response) => {",
    "    if (error) { throw error; }",
    "    pm.variables.set('otp', response.json().otp);",
    "  });",
]


def status_test(codes: list[int]) -> list[str]:
    """Assert the answer has one of the operation's documented 2xx statuses."""
    return [
        f"pm.test('status is {' or '.join(map(str, codes))}', () => {{",
        f"  pm.expect(pm.response.code).to.be.oneOf({json.dumps(codes)});",
        "});",
    ]


def page_test(next_page_kind: str, capture: tuple[str, str] | None, require_items: bool) -> list[str]:
    """A list page: ``items`` array, ``next_page`` of the right kind, integer money, optional capture."""
    lines = [
        "const body = pm.response.json();",
        "pm.test('items is an array', () => pm.expect(body.items).to.be.an('array'));",
        f"pm.test('next_page is {next_page_kind} or null', () => {{",
        f"  pm.expect(body.next_page === null || typeof body.next_page === '{next_page_kind}').to.be.true;",
        "});",
        *_MINOR_CHECK,
    ]
    if require_items:
        lines.append(
            "pm.test('the sandbox customer has records here', () => {\n"
            "  pm.expect(body.items.length).to.be.above(0);\n});"
        )
    if capture is not None:
        variable, field = capture
        lines += [
            "if (body.items && body.items.length > 0) {",
            f"  pm.environment.set('{variable}', body.items[0].{field});",
            f"  pm.environment.set('last_{variable}', body.items[body.items.length - 1].{field});",
            "}",
        ]
    return lines


def object_test(id_variable: str | None) -> list[str]:
    """A single JSON object (or array) answer with integer money."""
    lines = ["const body = pm.response.json();", *_MINOR_CHECK]
    if id_variable is not None:
        lines.append(
            f"pm.test('it is the requested record', () => {{\n"
            f"  pm.expect(body.id).to.eql(pm.environment.get('{id_variable}'));\n}});"
        )
    return lines


def pick_customer() -> list[str]:
    """Choose the first seeded customer's phone when the environment has none."""
    return [
        "if (!pm.environment.get('phone')) {",
        "  const url = pm.variables.replaceIn('{{base_url}}') + '/_sandbox/customers';",
        "  pm.sendRequest(url, (error, response) => {",
        "    if (error) { throw error; }",
        "    pm.environment.set('phone', response.json()[0].phone);",
        "  });",
        "}",
    ]


def request_otp_test() -> list[str]:
    return [
        "const body = pm.response.json();",
        "pm.test('an otp_id and a lifetime come back', () => {",
        "  pm.expect(body.otp_id).to.be.a('string');",
        "  pm.expect(body.expires_in).to.be.a('number');",
        "});",
    ]


def read_otp() -> list[str]:
    """Peek the pending OTP through the sandbox hook into a request-local variable."""
    return [
        "const baseUrl = pm.variables.replaceIn('{{base_url}}');",
        "const phone = pm.environment.get('phone');",
        *[line[2:] for line in _READ_OTP],
    ]


def send_and_read_otp() -> list[str]:
    """Request a fresh OTP, then peek it (for the second login and the OTP hook request)."""
    return [*_SEND_OTP, *_READ_OTP, "});"]


def store_tokens_test() -> list[str]:
    """Check a token pair and keep it in the environment."""
    return [
        "const body = pm.response.json();",
        "pm.test('a Bearer token pair comes back', () => {",
        "  pm.expect(body.token_type).to.eql('Bearer');",
        "  pm.expect(body.access_token).to.be.a('string').and.not.empty;",
        "  pm.expect(body.refresh_token).to.be.a('string').and.not.empty;",
        "  pm.expect(body.expires_in).to.be.above(0);",
        "});",
        "pm.environment.set('access_token', body.access_token);",
        "pm.environment.set('refresh_token', body.refresh_token);",
    ]


def remember_refresh_token() -> list[str]:
    return ["pm.environment.set('previous_refresh_token', pm.environment.get('refresh_token'));"]


def rotation_test() -> list[str]:
    """Refresh rotates: a different refresh token comes back and replaces the old one."""
    return [
        "const body = pm.response.json();",
        "pm.test('rotation answers a new refresh token', () => {",
        "  pm.expect(body.refresh_token).to.be.a('string');",
        "  pm.expect(body.refresh_token).to.not.eql(pm.environment.get('previous_refresh_token'));",
        "});",
        "pm.environment.set('access_token', body.access_token);",
        "pm.environment.set('refresh_token', body.refresh_token);",
    ]


def reuse_rejected_test() -> list[str]:
    """The spent token is refused and the whole login is revoked; the next request logs in again."""
    return [
        "pm.test('a spent refresh token is refused with 401', () => pm.response.to.have.status(401));",
        "pm.test('the problem says refresh-token-reused', () => {",
        "  pm.expect(pm.response.json().type).to.match(/refresh-token-reused$/);",
        "});",
        "pm.sendRequest({",
        "  url: pm.variables.replaceIn('{{base_url}}') + '/api/v1/trastpay/cards',",
        "  header: { Authorization: 'Bearer ' + pm.environment.get('access_token'),",
        "            'X-Device-Id': pm.environment.get('device_id') },",
        "}, (error, response) => {",
        "  pm.test('the reuse revoked the family (current access token refused)', () => {",
        "    pm.expect(error).to.be.null;",
        "    pm.expect(response.code).to.eql(401);",
        "  });",
        "});",
        "pm.environment.unset('previous_refresh_token');",
        "pm.environment.unset('access_token');",
        "pm.environment.unset('refresh_token');",
    ]


def otp_hook_test() -> list[str]:
    return [
        "pm.test('the pending OTP is six digits', () => {",
        "  pm.expect(pm.response.json().otp).to.match(/^[0-9]{6}$/);",
        "});",
    ]


def customers_test() -> list[str]:
    return [
        "const body = pm.response.json();",
        "pm.test('customers with phones and masked cards', () => {",
        "  pm.expect(body).to.be.an('array').and.not.empty;",
        "  body.forEach((c) => {",
        "    pm.expect(c.phone).to.match(/^\\+998[0-9]{9}$/);",
        "    c.cards.forEach((card) => pm.expect(card.pan_masked).to.match(/^[0-9]{6}\\*+[0-9]{4}$/));",
        "  });",
        "});",
    ]


def json_lines_test() -> list[str]:
    return [
        "const lines = pm.response.text().split('\\n').filter((line) => line.trim());",
        "const body = lines.map((line) => JSON.parse(line));",
        "pm.test('JSON lines with records', () => pm.expect(body.length).to.be.above(0));",
        *_MINOR_CHECK,
    ]


def text_contains_test(needle: str) -> list[str]:
    return [
        f"pm.test('the answer contains {needle}', () => {{",
        f"  pm.expect(pm.response.text()).to.include({json.dumps(needle)});",
        "});",
    ]


def field_test(field: str, kind: str) -> list[str]:
    return [f"pm.test('{field} is a {kind}', () => pm.expect(pm.response.json().{field}).to.be.a('{kind}'));"]


def store_field_test(field: str, variable: str) -> list[str]:
    return [
        *field_test(field, "string"),
        f"pm.environment.set('{variable}', pm.response.json().{field});",
    ]


def fx_rates_test() -> list[str]:
    return [
        "const body = pm.response.json();",
        "pm.test('rates are decimal strings', () => {",
        "  pm.expect(body).to.be.an('array').and.not.empty;",
        "  body.forEach((r) => pm.expect(r.Rate).to.match(/^[0-9]+(\\.[0-9]+)?$/));",
        "});",
    ]


def expired_tokens_test() -> list[str]:
    return [
        "pm.sendRequest({",
        "  url: pm.variables.replaceIn('{{base_url}}') + '/api/v1/trastpay/cards',",
        "  header: { Authorization: 'Bearer ' + pm.environment.get('access_token'),",
        "            'X-Device-Id': pm.environment.get('device_id') },",
        "}, (error, response) => {",
        "  pm.test('the access token no longer works', () => pm.expect(response.code).to.eql(401));",
        "});",
    ]


def encode_phone() -> list[str]:
    """Query strings need the `+` of the phone percent-encoded (a bare `+` reads as a space)."""
    return ["pm.variables.set('phone_encoded', encodeURIComponent(pm.environment.get('phone')));"]
