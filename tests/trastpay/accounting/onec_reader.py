"""A reader for 1C ClientBankExchange files, written from the format's published field list.

Independent of the writer in ``trastpay.accounting.onec``: it knows only the layout (windows-1251
``key=value`` lines, the header, ``СекцияРасчСчет``/``КонецРасчСчет``, ``СекцияДокумент``/
``КонецДокумента``, ``КонецФайла``) and which keys each part must carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

HEADER_KEYS = (
    "ВерсияФормата",
    "Кодировка",
    "Отправитель",
    "ДатаСоздания",
    "ДатаНачала",
    "ДатаКонца",
    "РасчСчет",
)
ACCOUNT_KEYS = (
    "ДатаНачала",
    "ДатаКонца",
    "РасчСчет",
    "НачальныйОстаток",
    "ВсегоПоступило",
    "ВсегоСписано",
    "КонечныйОстаток",
)
DOCUMENT_KEYS = ("Номер", "Дата", "Сумма", "ПлательщикСчет", "Плательщик", "ПолучательСчет", "Получатель")


@dataclass
class OneCFile:
    header: dict[str, str] = field(default_factory=dict)
    account: dict[str, str] = field(default_factory=dict)
    documents: list[dict[str, str]] = field(default_factory=list)

    def signed_amounts(self) -> list[tuple[str, Decimal]]:
        """``(dd.mm.yyyy, amount)`` per document, credits to our account positive."""
        ours = self.account["РасчСчет"]
        out = []
        for document in self.documents:
            amount = Decimal(document["Сумма"])
            if document["ПолучательСчет"] == ours:
                out.append((document["ДатаПоступило"], amount))
            elif document["ПлательщикСчет"] == ours:
                out.append((document["ДатаСписано"], -amount))
            else:
                raise AssertionError(f"document {document['Номер']} does not involve account {ours}")
        return out


def read_1c(data: bytes) -> OneCFile:
    text = data.decode("cp1251")
    lines = text.split("\r\n")
    if lines[0] != "1CClientBankExchange":
        raise AssertionError("first line must be 1CClientBankExchange")
    if lines[-1] != "" or lines[-2] != "КонецФайла":
        raise AssertionError("the file must end with КонецФайла and a line break")
    parsed = OneCFile()
    current: dict[str, str] = parsed.header
    for line in lines[1:-2]:
        key, sep, value = line.partition("=")
        if key == "СекцияРасчСчет" and not sep:
            current = parsed.account
        elif key == "КонецРасчСчет" or key == "КонецДокумента":
            current = {}
        elif key == "СекцияДокумент":
            current = {"ВидДокумента": value}
            parsed.documents.append(current)
        elif not sep:
            raise AssertionError(f"line without '=': {line!r}")
        else:
            if key in current:
                raise AssertionError(f"key {key} twice in one section")
            current[key] = value
    for keys, part in ((HEADER_KEYS, parsed.header), (ACCOUNT_KEYS, parsed.account)):
        missing = [k for k in keys if k not in part]
        if missing:
            raise AssertionError(f"missing keys {missing}")
    for document in parsed.documents:
        missing = [k for k in DOCUMENT_KEYS if k not in document]
        if missing or not ({"ДатаСписано", "ДатаПоступило"} & set(document)):
            raise AssertionError(
                f"document {document.get('Номер')} lacks {missing or 'ДатаСписано/ДатаПоступило'}"
            )
    if parsed.header["ВерсияФормата"] != "1.03" or parsed.header["Кодировка"] != "Windows":
        raise AssertionError("not a version 1.03 windows-1251 file")
    return parsed
