"""Card statement exports as real files: JSON, XLSX and PDF.

The sandbox's ``GET /cards/{card_token}/statement/export`` answers with these bytes. Each format
shows the same numbers: integer minor units are the truth, turned into major units with integer
arithmetic (JSON decimal strings, PDF text) or into :class:`decimal.Decimal` (XLSX numbers), never
through a binary float. Before rendering, the export is checked for internal consistency (opening +
credits - debits = closing, the debit and credit totals, and every entry's running balance), so a
file never disagrees with itself. Only the masked card number is ever shown.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson
from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

ExportFormat = Literal["json", "xlsx", "pdf"]

BANK_NAME = "Trustbank"
PROVIDER = "Trastpay (PJSB Trustbank)"
"""Who provides the statement; the card's own issuer (``card.bank_name``) may be another bank."""
LEGEND = (
    "Debit (gross) and Credit are operation amounts without commission. Commission is charged on top "
    "of them. Net change = Credit - Debit (gross) - Commission is what moved the balance. "
    "Do not add Commission to Debit (gross) again: it is not included there."
)
JSON_FORMAT_ID = "trastpay.statement_export.v1"
CONTENT_TYPES: dict[str, str] = {
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
CURRENCY_EXPONENTS: dict[str, int] = {"UZS": 2, "USD": 2, "EUR": 2, "RUB": 2}
TASHKENT = timezone(timedelta(hours=5), "Asia/Tashkent")
DEJAVU_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")
_XLSX_EXACT_DIGITS = 15
_TOTALS = ("opening_balance_minor", "closing_balance_minor", "debit_total_minor", "credit_total_minor")
_MASKED_PAN = re.compile(r"^[0-9]{4,6}[*xX•]+[0-9]{4}$")


class StatementExportLike(Protocol):
    """What a renderer reads (read-only); ``trastpay_sandbox.world.StatementExport`` satisfies it.

    ``to_date`` is inclusive (Tashkent days). Each entry carries ``booked_at`` (RFC 3339),
    ``transaction_id``, ``description``, ``amount_minor`` (the signed balance change, credits
    positive, commission included), ``commission_minor`` (the commission part of that change,
    shown for information) and ``balance_after_minor``.
    """

    @property
    def card(self) -> Mapping[str, Any]: ...
    @property
    def from_date(self) -> date: ...
    @property
    def to_date(self) -> date: ...
    @property
    def currency(self) -> str: ...
    @property
    def opening_balance_minor(self) -> int: ...
    @property
    def closing_balance_minor(self) -> int: ...
    @property
    def debit_total_minor(self) -> int: ...
    @property
    def credit_total_minor(self) -> int: ...
    @property
    def entries(self) -> Sequence[Mapping[str, Any]]: ...


def render_statement(export: StatementExportLike, fmt: ExportFormat) -> tuple[bytes, str]:
    """``(file bytes, content type)``; ValueError names an unknown format or currency, an unmasked
    card number, or balances and totals that do not reconcile."""
    renderers = {"json": render_json, "xlsx": render_xlsx, "pdf": render_pdf}
    if fmt not in renderers:
        raise ValueError(f"unknown export format {fmt!r}; expected one of json, xlsx, pdf")
    return renderers[fmt](export), CONTENT_TYPES[fmt]


def format_minor(minor: int, currency: str, *, group: str = "") -> str:
    """Minor units as a major-unit decimal string: ``-15200`` UZS -> ``"-152.00"``; ``group=" "``
    separates thousands for display (``"1 234.50"``)."""
    _int_field(minor, "amount")
    exponent = currency_exponent(currency)
    whole, fraction = divmod(abs(minor), 10**exponent)
    whole_text = f"{whole:,}".replace(",", group)
    sign = "-" if minor < 0 else ""
    return f"{sign}{whole_text}.{fraction:0{exponent}d}" if exponent else f"{sign}{whole_text}"


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for ``currency``; ValueError for an unsupported one."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        expected = ", ".join(sorted(CURRENCY_EXPONENTS))
        raise ValueError(f"unsupported statement currency {currency!r}; expected {expected}") from None


@dataclass(frozen=True)
class _Line:
    booked_at: datetime
    transaction_id: str
    description: str
    amount_minor: int
    commission_minor: int
    balance_after_minor: int

    @property
    def debit_minor(self) -> int:
        return -self.amount_minor if self.amount_minor < 0 else 0

    @property
    def credit_minor(self) -> int:
        return self.amount_minor if self.amount_minor > 0 else 0

    @property
    def gross_minor(self) -> int:
        """The operation amount without its commission (signed): net change + commission."""
        return self.amount_minor + self.commission_minor

    @property
    def gross_debit_minor(self) -> int:
        return -self.gross_minor if self.gross_minor < 0 else 0

    @property
    def gross_credit_minor(self) -> int:
        return self.gross_minor if self.gross_minor > 0 else 0

    @property
    def display_amounts(self) -> tuple[int, int, int, int]:
        """What a statement row shows: debit (gross), credit, commission, net change."""
        return self.gross_debit_minor, self.gross_credit_minor, self.commission_minor, self.amount_minor


@dataclass(frozen=True)
class _Checked:
    """An export that passed the consistency checks, with parsed entries."""

    export: StatementExportLike
    pan_masked: str
    holder_name: str
    lines: tuple[_Line, ...]

    @property
    def column_totals(self) -> tuple[int, int, int]:
        """Sums of the balance changes' debits (commission included), credits, and commissions."""
        return (
            sum(line.debit_minor for line in self.lines),
            sum(line.credit_minor for line in self.lines),
            sum(line.commission_minor for line in self.lines),
        )

    @property
    def display_totals(self) -> tuple[int, int, int, int]:
        """Sums of the shown columns: debit (gross), credit, commission, net change."""
        columns = [line.display_amounts for line in self.lines]
        return (
            sum(c[0] for c in columns),
            sum(c[1] for c in columns),
            sum(c[2] for c in columns),
            sum(c[3] for c in columns),
        )

    @property
    def issuer(self) -> str:
        return str(self.export.card.get("bank_name") or "")

    def money(self, minor: int, *, group: str = "") -> str:
        return format_minor(minor, self.export.currency, group=group)


def _int_field(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where} must be an integer (minor units), got {type(value).__name__}")
    return value


def _check(export: StatementExportLike) -> _Checked:
    currency_exponent(export.currency)
    pan_masked = str(export.card.get("pan_masked") or "")
    if pan_masked and not _MASKED_PAN.match(pan_masked):
        raise ValueError("card.pan_masked is not a masked card number (at most first 6 + last 4 digits)")
    if export.to_date < export.from_date:
        raise ValueError(f"statement period ends ({export.to_date}) before it starts ({export.from_date})")
    opening, closing, debit, credit = (_int_field(getattr(export, name), name) for name in _TOTALS)
    lines: list[_Line] = []
    balance = opening
    for index, entry in enumerate(export.entries):
        where = f"entries[{index}]"
        line = _Line(
            booked_at=_parse_booked_at(entry.get("booked_at"), where),
            transaction_id=str(entry.get("transaction_id", "")),
            description=str(entry.get("description") or ""),
            amount_minor=_int_field(entry.get("amount_minor"), f"{where}.amount_minor"),
            commission_minor=_int_field(entry.get("commission_minor", 0), f"{where}.commission_minor"),
            balance_after_minor=_int_field(entry.get("balance_after_minor"), f"{where}.balance_after_minor"),
        )
        balance += line.amount_minor
        if line.balance_after_minor != balance:
            raise ValueError(
                f"{where}.balance_after_minor is {line.balance_after_minor}, expected {balance} "
                "(previous balance + amount_minor)"
            )
        lines.append(line)
    checked = _Checked(
        export=export,
        pan_masked=pan_masked,
        holder_name=str(export.card.get("holder_name") or ""),
        lines=tuple(lines),
    )
    entry_debits, entry_credits, _ = checked.column_totals
    if (balance, entry_debits, entry_credits) != (closing, debit, credit):
        raise ValueError(
            f"statement does not reconcile: from opening {opening} the entries debit {entry_debits}, credit "
            f"{entry_credits} and close at {balance}; the export says debit_total_minor {debit}, "
            f"credit_total_minor {credit}, closing_balance_minor {closing}"
        )
    return checked


def _parse_booked_at(value: Any, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}.booked_at is not an RFC 3339 timestamp: {value!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"{where}.booked_at has no UTC offset: {value!r}")
    return moment.astimezone(TASHKENT)


# --- JSON -------------------------------------------------------------------------------------------

_CARD_FIELDS = ("card_token", "pan_masked", "rail", "currency", "bank_name", "holder_name")


def render_json(export: StatementExportLike) -> bytes:
    """UTF-8 JSON; every amount as a ``*_minor`` int and a decimal string without the suffix.

    ``{format, bank, card: {card_token, pan_masked, rail, currency, bank_name, holder_name},
    period: {from, to, to_inclusive, time_zone}, currency, opening_balance[_minor],
    closing_balance[_minor], totals: {debit[_minor] (commissions included), credit[_minor],
    commission[_minor], debit_gross[_minor] (commissions excluded), entry_count}, legend,
    entries: [{booked_at, transaction_id, description, amount[_minor] (the net balance change),
    gross_amount[_minor] (without commission), commission[_minor], balance_after[_minor]}]}``"""
    checked = _check(export)
    money = checked.money
    commission_total = checked.column_totals[2]
    gross_debit_total = checked.display_totals[0]
    document = {
        "format": JSON_FORMAT_ID,
        "bank": BANK_NAME,
        "provided_by": PROVIDER,
        "card_issuer": checked.issuer,
        "legend": LEGEND,
        "card": {name: export.card.get(name) for name in _CARD_FIELDS},
        "period": {
            "from": export.from_date.isoformat(),
            "to": export.to_date.isoformat(),
            "to_inclusive": True,
            "time_zone": "Asia/Tashkent",
        },
        "currency": export.currency,
        "opening_balance_minor": export.opening_balance_minor,
        "opening_balance": money(export.opening_balance_minor),
        "closing_balance_minor": export.closing_balance_minor,
        "closing_balance": money(export.closing_balance_minor),
        "totals": {
            "debit_minor": export.debit_total_minor,
            "debit": money(export.debit_total_minor),
            "credit_minor": export.credit_total_minor,
            "credit": money(export.credit_total_minor),
            "commission_minor": commission_total,
            "commission": money(commission_total),
            "debit_gross_minor": gross_debit_total,
            "debit_gross": money(gross_debit_total),
            "entry_count": len(checked.lines),
        },
        "entries": [
            {
                "booked_at": line.booked_at.isoformat(),
                "transaction_id": line.transaction_id,
                "description": line.description,
                "amount_minor": line.amount_minor,
                "amount": money(line.amount_minor),
                "gross_amount_minor": line.gross_minor,
                "gross_amount": money(line.gross_minor),
                "commission_minor": line.commission_minor,
                "commission": money(line.commission_minor),
                "balance_after_minor": line.balance_after_minor,
                "balance_after": money(line.balance_after_minor),
            }
            for line in checked.lines
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2)


# --- XLSX -------------------------------------------------------------------------------------------

TABLE_HEADER = (
    "Date",
    "Description",
    "Transaction ID",
    "Debit (gross)",
    "Credit",
    "Commission",
    "Net change",
    "Balance",
)
_XLSX_WIDTHS = {"A": 20, "B": 48, "C": 30, "D": 16, "E": 16, "F": 14, "G": 16, "H": 18}
_XLSX_MONEY_FORMAT = "#,##0.00"
XLSX_TABLE_HEADER_ROW = 12


def _xlsx_amount(minor: int, currency: str) -> Decimal | str:
    """A Decimal for the cell; a decimal string when a spreadsheet's 15 digits cannot hold it exactly."""
    if len(str(abs(minor))) > _XLSX_EXACT_DIGITS:
        return format_minor(minor, currency)
    return Decimal(minor).scaleb(-currency_exponent(currency))


def _xlsx_money(sheet: Any, row: int, column: int, minor: int, currency: str, *, bold: bool = False) -> None:
    cell = sheet.cell(row=row, column=column, value=_xlsx_amount(minor, currency))
    cell.number_format = _XLSX_MONEY_FORMAT
    cell.font = Font(bold=bold)
    if column == 2:
        cell.alignment = Alignment(horizontal="left")


def render_xlsx(export: StatementExportLike) -> bytes:
    """The statement as one worksheet: header block, legend, a frozen-header table, totals, closing
    balance. Debit (gross), Credit, Commission and Net change are separate columns (see LEGEND)."""
    checked = _check(export)
    currency = export.currency
    workbook = Workbook()
    workbook.properties.title = "Card statement"
    workbook.properties.creator = "Trastpay sandbox"
    sheet = workbook.active
    sheet.title = f"Statement {export.from_date:%Y-%m-%d}"
    bold = Font(bold=True)
    sheet["A1"] = "Card statement"
    sheet["A1"].font = Font(bold=True, size=14)
    header_block = [
        ("Provided by", PROVIDER),
        ("Card", checked.pan_masked),
        ("Card issuer", checked.issuer),
        ("Card holder", checked.holder_name),
        ("Period", f"{export.from_date.isoformat()} to {export.to_date.isoformat()} (Asia/Tashkent)"),
        ("Currency", currency),
    ]
    for row, (label, text) in enumerate(header_block, start=2):
        sheet.cell(row=row, column=1, value=label).font = bold
        sheet.cell(row=row, column=2, value=text)
    sheet.cell(row=8, column=1, value="Opening balance").font = bold
    _xlsx_money(sheet, 8, 2, export.opening_balance_minor, currency)
    sheet.cell(row=10, column=1, value="Legend").font = bold
    legend = sheet.cell(row=10, column=2, value=LEGEND)
    legend.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=10, start_column=2, end_row=10, end_column=8)
    sheet.row_dimensions[10].height = 45

    header_row = XLSX_TABLE_HEADER_ROW
    fill = PatternFill("solid", fgColor="DDE5F0")
    for column, title in enumerate(TABLE_HEADER, start=1):
        cell = sheet.cell(row=header_row, column=column, value=title)
        cell.font, cell.fill = bold, fill
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)

    row = header_row
    for line in checked.lines:
        row += 1
        moment = sheet.cell(row=row, column=1, value=line.booked_at.replace(tzinfo=None))
        moment.number_format = "yyyy-mm-dd hh:mm:ss"
        sheet.cell(row=row, column=2, value=line.description)
        sheet.cell(row=row, column=3, value=line.transaction_id)
        for column, minor in enumerate((*line.display_amounts, line.balance_after_minor), start=4):
            _xlsx_money(sheet, row, column, minor, currency)

    totals_row = row + 1
    sheet.cell(row=totals_row, column=1, value="Totals").font = bold
    for column, minor in enumerate(checked.display_totals, start=4):
        _xlsx_money(sheet, totals_row, column, minor, currency, bold=True)
    sheet.cell(row=totals_row + 2, column=1, value="Closing balance").font = bold
    _xlsx_money(sheet, totals_row + 2, 2, export.closing_balance_minor, currency, bold=True)
    for letter, width in _XLSX_WIDTHS.items():
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- PDF --------------------------------------------------------------------------------------------

_CYRILLIC_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "j", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "x", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch",
    "ъ": "'", "ы": "i", "ь": "", "э": "e", "ю": "yu", "я": "ya", "ў": "o'", "қ": "q", "ғ": "g'",
    "ҳ": "h",
}  # fmt: skip
_PUNCTUATION = {"ʻ": "'", "ʼ": "'", "‘": "'", "’": "'", "“": '"', "”": '"', "—": "-", "–": "-", "…": "..."}


def to_latin1(text: str) -> str:
    """Deterministic Latin-1 rendering for PDF core fonts (Uzbek Cyrillic and Russian to Latin)."""
    out: list[str] = []
    for char in text:
        lower = char.lower()
        if char in _PUNCTUATION:
            out.append(_PUNCTUATION[char])
        elif lower in _CYRILLIC_TO_LATIN:
            latin = _CYRILLIC_TO_LATIN[lower]
            out.append(latin.capitalize() if char != lower else latin)
        elif ord(char) < 256:
            out.append(char)
        else:
            stripped = "".join(c for c in unicodedata.normalize("NFKD", char) if ord(c) < 256)
            out.append(stripped or "?")
    return "".join(out)


def find_unicode_font(dirs: Sequence[str] = DEJAVU_DIRS) -> tuple[Path, Path] | None:
    """DejaVu Sans regular and bold when installed; None means fall back to transliteration."""
    for directory in map(Path, dirs):
        regular, bold = directory / "DejaVuSans.ttf", directory / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


_PDF_WIDTHS = (24.0, 62.0, 42.0, 26.0, 26.0, 22.0, 26.0, 29.0)
"""Column widths in mm on landscape A4 (267 mm between the margins)."""
_PDF_LINE_H = 4.0
_PDF_FONT_SIZE = 7.5
"""One size for every table row: cells wrap onto more lines instead of shrinking or being cut."""


class _StatementPdf(FPDF):
    """FPDF with page numbers in the footer and text made safe for the chosen font."""

    def __init__(self, fonts: tuple[Path, Path] | None) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.unicode = fonts is not None
        self.family_name = "Helvetica" if fonts is None else "DejaVu"
        if fonts is not None:
            self.add_font("DejaVu", "", str(fonts[0]))
            self.add_font("DejaVu", "B", str(fonts[1]))
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=False)
        self.alias_nb_pages()

    def text_for(self, text: str) -> str:
        return text if self.unicode else to_latin1(text)

    def style(self, size: float, *, bold: bool = False) -> None:
        self.set_font(self.family_name, "B" if bold else "", size)

    def footer(self) -> None:
        self.set_y(-12)
        self.style(8)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")


def render_pdf(
    export: StatementExportLike,
    *,
    fonts: tuple[Path, Path] | Literal["auto"] | None = "auto",
    compress: bool = True,
) -> bytes:
    """A landscape A4 statement: title, provider and issuer, card, period, balances, a legend, a paged
    table with repeated header, totals. Every cell wraps rather than being cut, at one font size.

    ``fonts="auto"`` uses DejaVu Sans when installed, else core fonts with transliterated text;
    ``None`` forces the latter. ``compress=False`` leaves content streams readable (for tests).
    """
    checked = _check(export)
    pdf = _StatementPdf(find_unicode_font() if fonts == "auto" else fonts)
    pdf.set_compression(compress)
    pdf.set_title("Card statement")
    pdf.add_page()

    def money(minor: int) -> str:
        return checked.money(minor, group=" ")

    pdf.style(16, bold=True)
    pdf.cell(0, 9, pdf.text_for("Card statement"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    details = [
        ("Provided by", PROVIDER),
        ("Card", checked.pan_masked),
        ("Card issuer", checked.issuer),
        ("Card holder", checked.holder_name),
        ("Period", f"{export.from_date.isoformat()} - {export.to_date.isoformat()} (Asia/Tashkent)"),
        ("Currency", export.currency),
        ("Opening balance", money(export.opening_balance_minor)),
        ("Closing balance", money(export.closing_balance_minor)),
    ]
    for label, value in details:
        pdf.style(10, bold=True)
        pdf.cell(40, 6, pdf.text_for(label))
        pdf.style(10)
        pdf.cell(0, 6, pdf.text_for(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.style(8)
    pdf.multi_cell(0, 4, pdf.text_for(f"Legend: {LEGEND}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    bottom = pdf.h - 20
    _pdf_table_header(pdf)
    for line in checked.lines:
        cells = (
            line.booked_at.strftime("%Y-%m-%d %H:%M"),
            line.description,
            line.transaction_id,
            *(money(m) if m else "" for m in line.display_amounts),
            money(line.balance_after_minor),
        )
        if pdf.get_y() + _pdf_row_height(pdf, cells, bold=False) > bottom:
            pdf.add_page()
            _pdf_table_header(pdf)
        _pdf_row(pdf, cells, bold=False)

    if pdf.get_y() + _PDF_LINE_H * 6 > bottom:
        pdf.add_page()
    _pdf_row(pdf, ("Totals", "", "", *map(money, checked.display_totals), ""), bold=True)
    pdf.ln(3)
    pdf.style(10, bold=True)
    pdf.cell(40, 6, "Closing balance")
    pdf.cell(0, 6, f"{money(export.closing_balance_minor)} {export.currency}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _pdf_table_header(pdf: _StatementPdf) -> None:
    pdf.set_fill_color(221, 229, 240)
    _pdf_row(pdf, TABLE_HEADER, bold=True, fill=True)


def _pdf_lines(pdf: _StatementPdf, text: str, width: float) -> list[str]:
    """``text`` wrapped to ``width`` in the current font (words, then characters for long tokens)."""
    lines = pdf.multi_cell(width, _PDF_LINE_H, pdf.text_for(text), dry_run=True, output="LINES")
    if not isinstance(lines, list):
        raise TypeError("fpdf2 multi_cell(output='LINES') did not return a list of lines")
    return [str(line) for line in lines] or [""]


def _pdf_row_height(pdf: _StatementPdf, cells: Sequence[str], *, bold: bool) -> float:
    pdf.style(_PDF_FONT_SIZE, bold=bold)
    return max(len(_pdf_lines(pdf, text, width)) for text, width in zip(cells, _PDF_WIDTHS, strict=True)) * (
        _PDF_LINE_H
    )


def _pdf_row(pdf: _StatementPdf, cells: Sequence[str], *, bold: bool, fill: bool = False) -> None:
    """One table row at the one table font size; a long description, id or amount wraps onto more
    lines of the row, so nothing is cut and no row is set smaller than another."""
    height = _pdf_row_height(pdf, cells, bold=bold)
    top, x = pdf.get_y(), pdf.l_margin
    for index, (text, width) in enumerate(zip(cells, _PDF_WIDTHS, strict=True)):
        pdf.set_xy(x, top)
        if fill:
            pdf.rect(x, top, width, height, style="F")
        lines = _pdf_lines(pdf, text, width)
        for number, shown in enumerate(lines):
            pdf.set_xy(x, top + number * _PDF_LINE_H)
            pdf.cell(width, _PDF_LINE_H, shown, align="R" if index >= 3 else "L")
        x += width
    pdf.line(pdf.l_margin, top + height, x, top + height)
    pdf.set_xy(pdf.l_margin, top + height)
