"""Statement exports: the three formats are real files whose numbers agree with each other."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from openpyxl import load_workbook

from trastpay_sandbox.exports import (
    LEGEND,
    TASHKENT,
    format_minor,
    render_pdf,
    render_statement,
    to_latin1,
)
from trastpay_sandbox.world import SandboxSettings, World

PAN_MASKED = "860030******6311"


@dataclass
class FakeStatementExport:
    """Same attributes as trastpay_sandbox.world.StatementExport."""

    card: dict[str, Any]
    from_date: date
    to_date: date
    currency: str
    opening_balance_minor: int
    closing_balance_minor: int
    debit_total_minor: int
    credit_total_minor: int
    entries: list[dict[str, Any]] = field(default_factory=list)


def build_export(
    movements: list[tuple[int, int]] | None = None,
    *,
    opening: int = 1_000_000_00,
    description: str = "Korzinka supermarket",
    currency: str = "UZS",
) -> FakeStatementExport:
    """A consistent export, one entry per hour, from (amount_minor, commission_minor) movements.

    As in the world's ledger, ``amount_minor`` is the whole balance change, commission included.
    """
    if movements is None:
        movements = [(-152_380_00, 380_00), (5_000_000_00, 0), (-45_500_50, 0), (-301_200_00, 1_200_00)]
    balance = opening
    debit = credit = 0
    entries: list[dict[str, Any]] = []
    start = datetime(2026, 3, 1, 8, 0, tzinfo=TASHKENT)
    for index, (amount, commission) in enumerate(movements):
        balance += amount
        debit += -amount if amount < 0 else 0
        credit += amount if amount > 0 else 0
        entries.append(
            {
                "booked_at": (start + timedelta(hours=index)).isoformat(),
                "transaction_id": f"tx_{index:06d}",
                "description": description,
                "amount_minor": amount,
                "commission_minor": commission,
                "balance_after_minor": balance,
            }
        )
    return FakeStatementExport(
        card={
            "card_token": "card_tok_1",
            "pan_masked": PAN_MASKED,
            "rail": "uzcard",
            "currency": currency,
            "bank_name": "Trustbank",
            "holder_name": "Dilnoza Karimova",
        },
        from_date=date(2026, 3, 1),
        to_date=date(2026, 3, 31),
        currency=currency,
        opening_balance_minor=opening,
        closing_balance_minor=balance,
        debit_total_minor=debit,
        credit_total_minor=credit,
        entries=entries,
    )


def joined_text(pdf: bytes) -> bytes:
    """Uncompressed content with fpdf2's split text runs (page-count alias) joined again."""
    return pdf.replace(b") Tj (", b"")


def pdf_page_count(pdf: bytes) -> int:
    match = re.search(rb"/Type /Pages\s*/Kids \[[^\]]*\]\s*/Count (\d+)", pdf) or re.search(
        rb"/Count (\d+)", pdf
    )
    assert match is not None
    return int(match.group(1))


def test_given_minor_units_when_formatting_then_exact_decimal_strings() -> None:
    assert format_minor(15_200, "UZS") == "152.00"
    assert format_minor(-5, "UZS") == "-0.05"
    assert format_minor(0, "USD") == "0.00"
    assert format_minor(9_007_199_254_740_993, "UZS") == "90071992547409.93"
    assert format_minor(123_456_789, "UZS", group=" ") == "1 234 567.89"


def test_given_unknown_currency_or_float_when_formatting_then_clear_error() -> None:
    with pytest.raises(ValueError, match="XYZ"):
        format_minor(100, "XYZ")
    with pytest.raises(ValueError, match="integer"):
        format_minor(1.5, "UZS")  # type: ignore[arg-type]


def test_given_export_when_rendering_json_then_totals_and_balance_chain_reconcile() -> None:
    body, content_type = render_statement(build_export(), "json")
    document = orjson.loads(body)

    assert content_type == "application/json"
    assert document["card"]["pan_masked"] == PAN_MASKED
    assert document["period"] == {
        "from": "2026-03-01",
        "to": "2026-03-31",
        "to_inclusive": True,
        "time_zone": "Asia/Tashkent",
    }
    totals = document["totals"]
    assert (
        document["opening_balance_minor"] + totals["credit_minor"] - totals["debit_minor"]
        == document["closing_balance_minor"]
    )
    balance = document["opening_balance_minor"]
    for entry in document["entries"]:
        balance += entry["amount_minor"]
        assert entry["balance_after_minor"] == balance
        assert entry["amount"] == format_minor(entry["amount_minor"], "UZS")
    assert balance == document["closing_balance_minor"]
    assert document["closing_balance"] == "5500919.50"
    assert document["entries"][0]["amount"] == "-152380.00"
    assert totals["commission"] == "1580.00"
    assert b"." not in re.sub(rb'"[^"]*"', b"", body), "a bare number with a decimal point is a float"


def test_given_inconsistent_totals_when_rendering_then_error_names_the_mismatch() -> None:
    export = build_export()
    export.debit_total_minor += 1
    with pytest.raises(ValueError, match=r"does not reconcile.*debit_total_minor 49908051"):
        render_statement(export, "json")


def test_given_totals_that_disagree_with_entries_when_rendering_then_error_names_both() -> None:
    export = build_export()
    export.debit_total_minor += 100
    export.credit_total_minor += 100
    with pytest.raises(ValueError, match="debit_total_minor 49908150"):
        render_statement(export, "json")


def test_given_broken_balance_chain_when_rendering_then_error_names_the_entry() -> None:
    export = build_export()
    export.entries[2]["balance_after_minor"] += 100
    with pytest.raises(ValueError, match=r"entries\[2\]\.balance_after_minor"):
        render_statement(export, "xlsx")


def test_given_full_pan_when_rendering_then_refused() -> None:
    export = build_export()
    export.card["pan_masked"] = "8600301234566311"
    with pytest.raises(ValueError, match="pan_masked"):
        render_statement(export, "pdf")


def test_given_unknown_format_when_rendering_then_error_names_it() -> None:
    with pytest.raises(ValueError, match="'csv'"):
        render_statement(build_export(), "csv")  # type: ignore[arg-type]


def test_given_export_when_rendering_xlsx_then_workbook_has_header_table_and_exact_balances() -> None:
    body, content_type = render_statement(build_export(), "xlsx")
    assert content_type.endswith("spreadsheetml.sheet")

    sheet = load_workbook(io.BytesIO(body)).active
    cells = {(row[0].value): row for row in sheet.iter_rows() if row[0].value is not None}
    assert sheet.title == "Statement 2026-03-01"
    assert cells["Provided by"][1].value == "Trastpay (PJSB Trustbank)"
    assert cells["Card issuer"][1].value == "Trustbank"
    assert cells["Card"][1].value == PAN_MASKED
    assert cells["Currency"][1].value == "UZS"
    assert cells["Legend"][1].value == LEGEND
    assert sheet.freeze_panes == "A13"
    assert [c.value for c in sheet[12]] == [
        "Date",
        "Description",
        "Transaction ID",
        "Debit (gross)",
        "Credit",
        "Commission",
        "Net change",
        "Balance",
    ]
    first = sheet[13]
    assert first[0].value == datetime(2026, 3, 1, 8, 0)
    assert first[2].value == "tx_000000"
    assert [first[i].value for i in (3, 4, 5, 6)] == [152000, 0, 380, -152380]
    assert first[3].number_format == "#,##0.00"
    assert cells["Totals"][3].value == 497500.5, "gross debits: the debit total without commissions"
    assert cells["Totals"][5].value == 1580
    assert cells["Totals"][6].value == 4500919.5, "net change: closing minus opening"
    assert sheet.column_dimensions["B"].width == 48

    sheet_xml = zipfile.ZipFile(io.BytesIO(body)).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>5500919.5</v>" in sheet_xml, "closing balance written as an exact decimal"
    assert "<v>45500.5</v>" in sheet_xml
    assert cells["Closing balance"][1].value == 5500919.5
    assert cells["Opening balance"][1].value == 1000000


def test_given_any_row_when_reading_the_columns_then_credit_minus_gross_debit_minus_commission_is_net() -> (
    None
):
    export = build_export()
    sheet = load_workbook(io.BytesIO(render_statement(export, "xlsx")[0])).active
    document = orjson.loads(render_statement(export, "json")[0])

    for row in sheet.iter_rows(min_row=13, max_row=12 + len(export.entries)):
        debit, credit, commission, net = (Decimal(str(row[i].value)) for i in (3, 4, 5, 6))
        assert credit - debit - commission == net
    for entry in document["entries"]:
        assert entry["gross_amount_minor"] - entry["commission_minor"] == entry["amount_minor"]
    totals = document["totals"]
    assert totals["debit_gross_minor"] + totals["commission_minor"] == totals["debit_minor"]
    assert document["legend"] == LEGEND


def test_given_amount_beyond_spreadsheet_precision_when_rendering_xlsx_then_written_as_exact_text() -> None:
    export = build_export([(9_007_199_254_740_993, 0)], opening=0)
    body, _ = render_statement(export, "xlsx")
    sheet = load_workbook(io.BytesIO(body)).active
    cells = {(row[0].value): row for row in sheet.iter_rows() if row[0].value is not None}
    assert cells["Closing balance"][1].value == "90071992547409.93"


def test_given_export_when_rendering_pdf_then_a_pdf_with_card_and_closing_balance() -> None:
    body, content_type = render_statement(build_export(), "pdf")
    assert content_type == "application/pdf"
    assert body.startswith(b"%PDF-")
    assert pdf_page_count(body) == 1

    plain = joined_text(render_pdf(build_export(), fonts=None, compress=False))
    assert b"(860030******6311) Tj" in plain
    assert b"(5 500 919.50) Tj" in plain
    assert b"(Page 1 of 1) Tj" in plain


def test_given_long_statement_when_rendering_pdf_then_pages_break_with_repeated_header() -> None:
    movements = [(-10_000_00 - index, 0) if index % 3 else (50_000_00, 0) for index in range(300)]
    export = build_export(movements, opening=100_000_000_00)
    plain = joined_text(render_pdf(export, fonts=None, compress=False))

    pages = pdf_page_count(plain)
    assert 8 <= pages <= 12, "about 35 rows of 4 mm fit a landscape A4 page"
    assert plain.count(b"(Transaction ID) Tj") == pages
    for number in range(1, pages + 1):
        assert f"(Page {number} of {pages}) Tj".encode() in plain
    assert all(f"(tx_{index:06d}) Tj".encode() in plain for index in range(300))
    assert f"({format_minor(export.closing_balance_minor, 'UZS', group=' ')}) Tj".encode() in plain


def test_given_long_descriptions_and_ids_when_rendering_pdf_then_nothing_is_cut_and_one_font_size() -> None:
    description = (
        "Transfer to card 860012******4048, Abdulazizxon Toshmatov-Qodirov, account 20208000900491000123"
    )
    export = build_export(description=description)
    export.entries[0]["transaction_id"] = "tx_trf_" + "x" * 60
    plain = joined_text(render_pdf(export, fonts=None, compress=False))
    shown = b" ".join(re.findall(rb"\((.*?)\) Tj", plain))

    assert b"..." not in shown
    assert b"860012******4048," in shown
    assert b"20208000900491000123" in shown
    assert b"x" * 30 in shown.replace(b" ", b"")
    table_sizes = set(re.findall(rb"/F\d+ ([0-9.]+) Tf", plain)) - {b"16.00", b"10.00", b"8.00"}
    assert table_sizes == {b"7.50"}


def test_given_another_banks_card_when_rendering_then_issuer_is_that_bank_and_provider_is_trastpay() -> None:
    export = build_export()
    export.card["bank_name"] = "Kapitalbank"
    plain = joined_text(render_pdf(export, fonts=None, compress=False))
    document = orjson.loads(render_statement(export, "json")[0])

    assert b"(Kapitalbank) Tj" in plain
    assert b"Trustbank \xe2\x80\x94 card statement" not in plain
    assert b"(Card statement) Tj" in plain
    assert document["card_issuer"] == "Kapitalbank"
    assert document["provided_by"] == "Trastpay (PJSB Trustbank)"


def test_given_uzbek_and_cyrillic_text_when_transliterating_then_latin1_deterministic() -> None:
    assert to_latin1("Oʻzsuvtaʼminot") == "O'zsuvta'minot"
    assert to_latin1("Ўзбекистон — Қарши") == "O'zbekiston - Qarshi"
    assert to_latin1("Перевод Ғ") == "Perevod G'"
    to_latin1("漢字✓").encode("latin-1")


def test_given_non_latin_description_when_rendering_pdf_without_unicode_font_then_transliterated() -> None:
    export = build_export(description="Ҳудудгазтаъминот тўлов")
    plain = render_pdf(export, fonts=None, compress=False)
    assert b"(Hududgazta'minot to'lov) Tj" in plain


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_given_pdf_when_extracting_text_then_readable_statement(tmp_path: Path) -> None:
    export = build_export(description="Ўзбекистон")
    pdf_file = tmp_path / "statement.pdf"
    pdf_file.write_bytes(render_statement(export, "pdf")[0])

    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf_file), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert PAN_MASKED in text
    assert "5 500 919.50" in text
    assert "Page 1 of 1" in text
    assert "Ўзбекистон" in text or "O'zbekiston" in text


def test_given_seeded_world_statement_when_rendering_each_format_then_files_agree_with_it() -> None:
    world = World(SandboxSettings(seed=7, customers=2, history_days=120))
    customer = world.customers()[0]
    for card in world.cards(customer.id):
        export = world.statement_export(customer.id, card["card_token"], date(2026, 8, 1), date(2026, 10, 31))
        document = orjson.loads(render_statement(export, "json")[0])
        assert document["closing_balance_minor"] == export.closing_balance_minor
        assert document["totals"]["entry_count"] == len(export.entries)
        sheet = load_workbook(io.BytesIO(render_statement(export, "xlsx")[0])).active
        assert sheet["B3"].value == card["pan_masked"]
        assert render_statement(export, "pdf")[0].startswith(b"%PDF-")
