"""The per-record guard every stream applies before a record leaves the core.

It promises: the record is a JSON object carrying its primary key and cursor; every ``*pan*``
field is masked to at most 6 + 4 digits and every other string, at any depth (nested objects and
arrays, identifiers such as ``id``, ``*_id`` and ``*_token`` included, whatever ``pii_mode``), has
card numbers masked; a card number in the primary key or partition key, or in a field name, refuses
the record (a masked key would merge records and reach state and logs); personal names and phones
follow ``pii_mode``; ``*_minor`` money fields are int64 integers (a float, a string or a value
outside int64 means the API changed type, which must stop the sync rather than corrupt sums);
every field the stream's schema declares holds its declared JSON type or null (another type stops
the sync, naming stream and field); unknown added fields pass through.

It sits on the hot path (100k records/s), so the work per record is planned once per key layout
(the API sends the same keys in the same order), the type check once per layout of value types,
and a page whose raw body holds no long digit run (``pan_free``) skips the masking scans altogether.
"""

from __future__ import annotations

from operator import itemgetter
from types import NoneType
from typing import Any, Final, NamedTuple

from trastpay.config import TrastpayConfig
from trastpay.errors import SchemaDriftError
from trastpay.masking import MASKED_PAN, PiiPolicy, mask_pan, might_contain_pan, scrub_pans
from trastpay.money import INT64_MAX, INT64_MIN
from trastpay.schemas import load_schema
from trastpay.streams import StreamDef

TEXT: Final = 0
PAN: Final = 1
PII: Final = 2
IDENTIFIER: Final = 3
MONEY: Final = 4

PII_NAME_FIELDS = frozenset({"holder_name", "counterparty_name", "receiver_name", "sender_name"})


def classify_field(name: str) -> int:
    """How a field is treated: money, masked PAN, personal data, identifier (left alone) or text."""
    parts = name.lower().split("_")
    if parts[-1] == "minor":
        return MONEY
    if "pan" in parts:
        return PAN
    if name in PII_NAME_FIELDS or "phone" in parts:
        return PII
    if name == "id" or parts[-1] in ("id", "token", "ids"):
        return IDENTIFIER
    return TEXT


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}
_JSON_NAMES: dict[type, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    dict: "object",
    list: "array",
}
_MAX_SIGNATURES = 1024
_INTEGER_OR_NULL: tuple[type, ...] = (int, type(None))
_MAX_MASKED_SEEN = 4096
"""Masked card numbers already seen well-formed (a profile has few cards); checked by set lookup."""


class _Plan(NamedTuple):
    money: tuple[str, ...]
    all_money: tuple[str, ...]
    pan: tuple[str, ...]
    pii: tuple[str, ...]
    text: tuple[str, ...]
    nested: tuple[str, ...]
    typed: tuple[tuple[int, str, tuple[type, ...]], ...]
    signatures: set[tuple[type, ...]]


class PageColumns(NamedTuple):
    """The values of one checked page per field, in record order, with the set of their types.

    Only fields the processor left untouched are listed (``*pan*``, personal-data and nested
    fields are not), so a consumer may read them instead of the records."""

    values: dict[str, tuple[Any, ...]]
    types: dict[str, frozenset[type]]


_CONTAINERS = frozenset({dict, list})
_INTEGER_OR_NULL_SET = frozenset(_INTEGER_OR_NULL)


class RecordProcessor:
    """Checks and cleans the records of one stream (see the module docstring)."""

    __slots__ = (
        "_clean_layouts",
        "_declared_types",
        "_identity",
        "_kinds",
        "_known_scalars",
        "_masked_seen",
        "_pii",
        "_plans",
        "_required",
        "cursor_field",
        "partition_field",
        "stream",
    )

    def __init__(self, stream: StreamDef, config: TrastpayConfig) -> None:
        self.stream = stream
        self.cursor_field = stream.cursor_field
        self.partition_field = stream.partition_field
        self._required = stream.primary_key + ((stream.cursor_field,) if stream.cursor_field else ())
        self._identity = frozenset(
            stream.primary_key + ((stream.partition_field,) if stream.partition_field else ())
        )
        self._pii = PiiPolicy(config.pii_mode, config.pii_hash_key)
        self._plans: dict[tuple[str, ...], _Plan] = {}
        properties = load_schema(stream.name).get("properties", {})
        self._known_scalars = frozenset(
            name
            for name, prop in properties.items()
            if not {"object", "array"} & set(_types(prop.get("type")))
        )
        self._masked_seen: set[str] = set()
        self._kinds: dict[str, int] = {}  # nested field name -> classify_field(name)
        self._clean_layouts: set[tuple[str, ...]] = set()  # nested key layouts holding no card number
        self._declared_types: dict[str, tuple[type, ...]] = {}
        for name, prop in properties.items():
            allowed = tuple(
                t for json_type in _types(prop.get("type")) for t in _JSON_TYPES.get(json_type, ())
            )
            if allowed:
                self._declared_types[name] = (*allowed, type(None))

    def _plan(self, keys: tuple[str, ...]) -> _Plan:
        if any(might_contain_pan(key) and scrub_pans(key) != key for key in keys):
            raise SchemaDriftError(
                f"Stream '{self.stream.name}': a field name holds a card number; the record is refused."
            )
        groups: dict[int, list[str]] = {TEXT: [], PAN: [], PII: [], MONEY: []}
        identifiers = set(self.stream.primary_key)
        for key in keys:
            kind = IDENTIFIER if key in identifiers else classify_field(key)
            # identifiers are scanned like text: a card number must not pass as an id or a token
            groups[TEXT if kind == IDENTIFIER else kind].append(key)
        nested = tuple(key for key in keys if key not in self._known_scalars)
        kept_pii = self._pii.mode == "keep"
        plan = _Plan(
            # declared integer money fields are checked with every declared type (the signature)
            money=tuple(key for key in groups[MONEY] if self._declared_types.get(key) != _INTEGER_OR_NULL),
            all_money=tuple(groups[MONEY]),
            pan=tuple(groups[PAN]),
            pii=() if kept_pii else tuple(groups[PII]),
            text=tuple(groups[TEXT] + groups[PII]) if kept_pii else tuple(groups[TEXT]),
            nested=nested,
            typed=tuple(
                (position, key, self._declared_types[key])
                for position, key in enumerate(keys)
                if key in self._declared_types
            ),
            signatures=set(),
        )
        if len(self._plans) < 64:
            self._plans[keys] = plan
        return plan

    def process(
        self, raw: Any, partition_value: str | None = None, *, pan_free: bool = False
    ) -> dict[str, Any]:
        """Return the cleaned record (the same dict, changed in place) or raise ``SchemaDriftError``.

        ``pan_free=True`` is a promise from the caller (see ``masking.might_hold_pan``) that the raw
        page held no run of 13+ digits, so free text cannot hold a card number and its scan is
        skipped; ``*pan*`` fields are always enforced.
        """
        if type(raw) is not dict:
            raise SchemaDriftError(
                f"Stream '{self.stream.name}': an item is not a JSON object ({type(raw).__name__})."
            )
        record: dict[str, Any] = raw
        partition_field = self.partition_field
        if partition_field is not None and partition_value is not None and partition_field not in record:
            record[partition_field] = partition_value
        for key in self._required:
            if record.get(key) is None:
                raise SchemaDriftError(f"Stream '{self.stream.name}': a record has no '{key}' (required).")
        if self.cursor_field is not None and type(record[self.cursor_field]) is not str:
            raise SchemaDriftError(
                f"Stream '{self.stream.name}': field '{self.cursor_field}' changed type "
                "(expected a timestamp string)."
            )
        keys = tuple(record)
        plan = self._plans.get(keys) or self._plan(keys)
        for key in plan.money:
            value = record[key]
            if type(value) is not int and value is not None:
                raise self._changed_type(key, value)
        signature = tuple(map(type, record.values()))
        if signature not in plan.signatures:
            self._check_types(plan, signature)
        for key in plan.pii:
            value = record[key]
            if value is not None:
                record[key] = self._pii.apply(value)
        for key in plan.nested:
            value = record[key]
            if type(value) is dict or type(value) is list:
                record[key] = self._clean_nested(value, key, not pan_free)
        masked = self._masked_seen
        for key in plan.pan:
            value = record[key]
            if type(value) is str and value not in masked:
                if MASKED_PAN.match(value):
                    if len(masked) < _MAX_MASKED_SEEN:
                        masked.add(value)
                else:
                    record[key] = mask_pan(value)
        if pan_free:  # no run of 13+ digits on the page: no card number, no integer beyond int64
            return record
        for key in plan.all_money:
            value = record[key]
            if value is not None and not INT64_MIN <= value <= INT64_MAX:
                raise self._out_of_range(key)
        texts = [value for key in plan.text if type(value := record[key]) is str]
        if texts and might_contain_pan("\x00".join(texts)):
            for key in plan.text:
                value = record[key]
                if type(value) is str:
                    scrubbed = scrub_pans(value)
                    if scrubbed != value and key in self._identity:
                        raise SchemaDriftError(
                            f"Stream '{self.stream.name}': key field '{key}' holds a card number; "
                            "the record is refused (a masked key would reach state and logs)."
                        )
                    record[key] = scrubbed
        return record

    def process_page(
        self, items: list[Any], partition_value: str | None = None, *, pan_free: bool = False
    ) -> tuple[list[dict[str, Any]], PageColumns | None]:
        """:meth:`process` for every item of one page, with the same records and the same first
        error; plus the page's columns when it took the per-page path (``None`` otherwise).

        The per-page path runs when the page holds no card number (``pan_free``) and every item
        is an object with the same keys: every rule is then decided once per field over the
        page's column of values (its set of types) instead of once per record. Any doubt
        (another layout, a type a rule refuses) sends the whole page through :meth:`process`,
        record by record, which raises exactly the error a record-by-record read raises.
        """
        if pan_free and len(items) > 1:
            checked = self._page_columns(items, partition_value)
            if checked is not None:
                return items, checked
        process = self.process
        return [process(item, partition_value, pan_free=pan_free) for item in items], None

    def _page_columns(self, items: list[Any], partition_value: str | None) -> PageColumns | None:
        """The per-page path of :meth:`process_page` (``None``: not for this page; nothing changed
        that :meth:`process` would not change the same way)."""
        if set(map(type, items)) != {dict}:
            return None
        layout = tuple(items[0])
        if len(layout) < 2 or len(set(map(len, items))) != 1:
            return None
        try:  # the same number of keys, and every one of the first record's: the same key set
            # a column at a time: a pass per field reads faster than transposing rows of values
            columns = [tuple(map(itemgetter(key), items)) for key in layout]
        except KeyError:
            return None
        partition_field = self.partition_field
        if partition_field is not None and partition_value is not None and partition_field not in layout:
            for record in items:  # what process does first, record by record
                record[partition_field] = partition_value
            layout += (partition_field,)
            columns.append((partition_value,) * len(items))
        try:
            plan = self._plans.get(layout) or self._plan(layout)
        except SchemaDriftError:
            return None  # process raises it, or an earlier error of the same record
        values = dict(zip(layout, columns, strict=True))
        types = {key: frozenset(map(type, column)) for key, column in values.items()}
        for key in self._required:
            if key not in types or NoneType in types[key]:
                return None
        if self.cursor_field is not None and types[self.cursor_field] != {str}:
            return None
        for key in plan.money:
            if not types[key] <= _INTEGER_OR_NULL_SET:
                return None
        for _position, key, allowed in plan.typed:
            if not types[key] <= set(allowed):
                return None
        nested = [key for key in plan.nested if types[key] & _CONTAINERS]
        if nested and len(set(map(tuple, items))) != 1:
            return None  # nested fields are cleaned in each record's key order: keep process's first error
        # every record passes every check: now the changes, which raise nothing but nested money types
        for key in plan.pii:
            apply = self._pii.apply
            for record in items:
                value = record[key]
                if value is not None:
                    record[key] = apply(value)
        if nested:
            clean = self._clean_nested
            for record in items:  # record by record: the first nested error is process's
                for key in nested:
                    value = record[key]
                    if type(value) is dict or type(value) is list:
                        record[key] = clean(value, key, False)
        for key in plan.pan:
            self._mask_pan_column(items, key, values[key], types[key])
        changed = {*plan.pii, *nested, *plan.pan}
        return PageColumns(
            {key: column for key, column in values.items() if key not in changed},
            {key: found for key, found in types.items() if key not in changed},
        )

    def _mask_pan_column(
        self, items: list[dict[str, Any]], key: str, column: tuple[Any, ...], types: frozenset[type]
    ) -> None:
        """Mask one ``*pan*`` field of a page: each distinct value is decided once."""
        masked = self._masked_seen
        if not types <= {str, NoneType}:  # unhashable or odd values: as process does, one by one
            for record in items:
                value = record[key]
                if type(value) is str and value not in masked and not MASKED_PAN.match(value):
                    record[key] = mask_pan(value)
            return
        fixes: dict[str, str] = {}
        for value in set(column) - masked:
            if value is None:
                continue
            if MASKED_PAN.match(value):
                if len(masked) < _MAX_MASKED_SEEN:
                    masked.add(value)
            else:
                fixes[value] = mask_pan(value)
        if fixes:
            for record in items:
                value = record[key]
                if value in fixes:
                    record[key] = fixes[value]

    def _check_types(self, plan: _Plan, signature: tuple[type, ...]) -> None:
        """Raise for the first declared field whose value has another JSON type; remember a good layout."""
        for position, key, allowed in plan.typed:
            found = signature[position]
            if found not in allowed and allowed == _INTEGER_OR_NULL and classify_field(key) == MONEY:
                raise SchemaDriftError(
                    f"Stream '{self.stream.name}': money field '{key}' changed type "
                    f"(expected integer minor units, got {found.__name__})."
                )
            if found not in allowed:
                expected = " or ".join(dict.fromkeys(_JSON_NAMES.get(t, "null") for t in allowed))
                raise SchemaDriftError(
                    f"Stream '{self.stream.name}': field '{key}' changed type "
                    f"(expected {expected}, got {_JSON_NAMES.get(found, found.__name__)})."
                )
        if len(plan.signatures) < _MAX_SIGNATURES:
            plan.signatures.add(signature)

    def _changed_type(self, key: str, value: object) -> SchemaDriftError:
        return SchemaDriftError(
            f"Stream '{self.stream.name}': money field '{key}' changed type "
            f"(expected integer minor units, got {type(value).__name__})."
        )

    def _out_of_range(self, key: str) -> SchemaDriftError:
        return SchemaDriftError(
            f"Stream '{self.stream.name}': money field '{key}' is outside the int64 range of minor units."
        )

    def _clean_nested(self, value: Any, path: str, scan: bool) -> Any:
        """Nested objects and arrays (``events.data``): the same masking, PII and money rules, at any depth.

        ``scan`` is False only on a page that provably holds no card number (and so no integer
        beyond int64); ``*pan*`` fields, personal data and money types are enforced regardless.
        """
        if isinstance(value, list):
            return [self._clean_nested(item, path, scan) for item in value]
        if not isinstance(value, dict):
            return scrub_pans(value) if scan and isinstance(value, str) else value
        if scan:
            layout = tuple(value)
            if layout not in self._clean_layouts:
                if might_contain_pan("\x00".join(layout)):  # a card number as a key: rebuild it masked
                    value = {scrub_pans(key): item for key, item in value.items()}
                elif len(self._clean_layouts) < _MAX_SIGNATURES:
                    self._clean_layouts.add(layout)
        kinds = self._kinds
        for key, item in value.items():
            kind = kinds.get(key)
            if kind is None:
                kind = classify_field(key)
                if len(kinds) < _MAX_SIGNATURES:
                    kinds[key] = kind
            if kind == MONEY:
                if type(item) is not int and item is not None:
                    raise self._changed_type(f"{path}.{key}", item)
                if scan and item is not None and not INT64_MIN <= item <= INT64_MAX:
                    raise self._out_of_range(f"{path}.{key}")
            elif isinstance(item, str):
                if kind == PAN:
                    value[key] = item if MASKED_PAN.match(item) else mask_pan(item)
                elif kind == PII:
                    keep = self._pii.mode == "keep"
                    value[key] = scrub_pans(item) if keep and scan else self._pii.apply(item)
                elif scan:
                    value[key] = scrub_pans(item)
            elif isinstance(item, dict | list):
                value[key] = self._clean_nested(item, f"{path}.{key}", scan)
        return value


def _types(declared: Any) -> list[str]:
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [t for t in declared if isinstance(t, str)]
    return []
