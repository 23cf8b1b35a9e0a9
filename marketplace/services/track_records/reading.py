"""Reading a track-record file: CSV or XLSX into numbered rows, then each cell into a deal field.

Row numbers are the spreadsheet's own (the header is row 1), so an error points at the row a
person sees. Cells may hold keys (PK, onshore_wind) or the names people use, in English or
Chinese (Pakistan, 巴基斯坦, Onshore wind, 陆上风电).
"""

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from babel import Locale
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from marketplace import labels
from marketplace.reference import catalog, sectors
from marketplace.services import ServiceError
from marketplace.services.track_records.rules import COLUMNS, DealInput, split_names

MAX_FILE_MB = 2
MAX_ROWS = 5000
# 5,000 rows of a few short cells unpack to a few MB; far more is not a track record.
MAX_UNPACKED_MB = 50
_NOT_XLSX = _l("The file's content is not a valid %(kind)s document.", kind="XLSX")
# More columns than this is not a track-record sheet; reading stops there (a wide sheet is slow).
MAX_COLUMNS = 30
LOCALES = ("en", "zh_Hans", "zh_Hant")

HEADER_ALIASES = {
    "country": ("country", "country iso2", "country code", "国家", "國家"),
    "sector": ("sector", "行业", "行業"),
    "technology": ("technology", "技术", "技術"),
    "year": ("year", "年份", "年"),
    "amount_usd": ("amount usd", "amount", "金额 美元", "金額 美元", "金额", "金額"),
    "co_financiers": ("co financiers", "cofinanciers", "联合融资方", "聯合融資方"),
}


class Cell(ValueError):
    """A cell that cannot be read; the message says what to write instead."""


def folded(text: str) -> str:
    """Compare names and headers without case, width, brackets, underscores or extra spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[\s_\-()]+", " ", text).split())


# --- the file into numbered rows ---------------------------------------------------------------


def numbered_rows(filename: str, content: bytes) -> Iterator[tuple[int, tuple]]:
    """(row number, cells) of a CSV or XLSX file, the header first; blank rows skipped."""
    if not content:
        raise ServiceError(_l("The file is empty."))
    if len(content) > MAX_FILE_MB * 1024 * 1024:
        raise ServiceError(_l("The file is larger than %(mb)d MB.", mb=MAX_FILE_MB), 413)
    extension = Path(filename or "").suffix.lower()
    if extension == ".csv":
        rows = _csv_rows(content)
    elif extension == ".xlsx" and zipfile.is_zipfile(io.BytesIO(content)):
        rows = _xlsx_rows(content)
    elif extension == ".xlsx":
        raise ServiceError(_NOT_XLSX)
    else:
        raise ServiceError(_l("Only CSV and XLSX files are accepted."))
    for number, cells in rows:
        if number > MAX_ROWS + 1:
            raise ServiceError(
                _l(
                    "The file has more than %(num)d rows: split it into smaller files.",
                    num=MAX_ROWS,
                )
            )
        if any(_text(cell) for cell in cells):
            yield number, tuple(cells)


def _csv_rows(content: bytes) -> Iterator[tuple[int, list]]:
    text = _decoded(content)
    dialect = "excel-tab" if "\t" in text.split("\n", 1)[0] else "excel"
    reader = csv.reader(io.StringIO(text, newline=""), dialect=dialect)
    number = 0  # records, not lines: a quoted cell may span lines yet is one spreadsheet row
    try:
        for number, cells in enumerate(reader, start=1):  # noqa: B007 (read after the loop)
            yield number, cells[:MAX_COLUMNS]
    except csv.Error:
        raise ServiceError(_l("Row %(row)d cannot be read as CSV.", row=number + 1)) from None


def _decoded(content: bytes) -> str:
    """UTF-8 (with or without Excel's BOM), else GB 18030, which Chinese Excel saves CSV in."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise ServiceError(_l("The CSV file is not text in UTF-8 or GB 18030."))


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, tuple]]:
    """The first worksheet's values (formulas as last calculated), read as a stream."""
    _check_unpacked_size(content)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged or foreign file
        raise ServiceError(_NOT_XLSX) from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS)
        yield from enumerate(rows, start=1)
    except Exception:  # a damaged sheet fails only while it is read
        raise ServiceError(_NOT_XLSX) from None
    finally:
        book.close()


def _check_unpacked_size(content: bytes) -> None:
    """Refuse a workbook that unpacks to far more than a track record needs (a ZIP bomb): openpyxl
    holds the shared strings in memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ServiceError(_NOT_XLSX) from None
    if unpacked > MAX_UNPACKED_MB * 1024 * 1024:
        raise ServiceError(
            _l("The workbook is larger than %(mb)d MB once unpacked.", mb=MAX_UNPACKED_MB), 413
        )


# --- the header ------------------------------------------------------------------------------


def header_columns(cells: tuple) -> list[str | None]:
    """The field each column holds (None for an empty header cell); ServiceError when the header
    names an unknown or repeated column or lacks the year or both sector and technology."""
    known = {
        folded(alias): column for column, aliases in HEADER_ALIASES.items() for alias in aliases
    }
    columns: list[str | None] = []
    for cell in cells:
        name = _text(cell)
        if name and folded(name) not in known:
            raise ServiceError(
                _l(
                    "Unknown column “%(name)s”. The columns are: %(columns)s.",
                    name=name[:60],
                    columns=", ".join(COLUMNS),
                )
            )
        column = known[folded(name)] if name else None
        if column is not None and column in columns:
            raise ServiceError(_l("The column “%(name)s” appears twice.", name=column))
        columns.append(column)
    if "year" not in columns or not {"sector", "technology"} & set(columns):
        raise ServiceError(
            _l("The first row must name the columns, with year and sector or technology.")
        )
    return columns


# --- cells into deal fields --------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split())


@cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for iso2, country in catalog.countries().items():
        for name in (iso2, country.iso3, country.name, country.source_name):
            names[folded(name)] = iso2
        for locale in LOCALES:
            cldr = Locale.parse(locale).territories.get(iso2)
            if cldr:
                names.setdefault(folded(cldr), iso2)
    return names


def read_country(value) -> str | None:
    text = _text(value)
    if not text:
        return None
    iso2 = _country_names().get(folded(text))
    if iso2 is None:
        raise Cell(
            _l("Unknown country “%(value)s”: write its name or ISO code (PK).", value=text[:60])
        )
    return iso2


@cache
def _vocabulary(kind: str) -> dict[str, str]:
    """A vocabulary's keys and their labels in each language, folded, to the key."""
    keys, names = _VOCABULARIES[kind]
    found = {folded(key): key for key in keys}
    for locale in LOCALES:
        with force_locale(locale):
            found.update({folded(str(names[key])): key for key in keys})
    return found


_VOCABULARIES = {
    "sector": (sectors.SECTORS, labels.SECTORS),
    "technology": (tuple(sectors.TECHNOLOGIES), labels.TECHNOLOGIES),
}


def read_sector(value) -> str | None:
    text = _text(value)
    if not text:
        return None
    key = _vocabulary("sector").get(folded(text))
    if key is None:
        raise Cell(_l("Unknown sector “%(value)s”.", value=text[:60]))
    return key


def read_technology(value) -> str | None:
    text = _text(value)
    if not text:
        return None
    key = _vocabulary("technology").get(folded(text))
    if key is None:
        raise Cell(_l("Unknown technology “%(value)s”.", value=text[:60]))
    return key


def read_year(value) -> int | None:
    if isinstance(value, datetime | date):
        return value.year
    number = _decimal(value, _l("Write the year as a number, such as 2018."))
    if number is None:
        return None
    if number != number.to_integral_value():
        raise Cell(_l("Write the year as a number, such as 2018."))
    return int(number)


def read_amount(value) -> Decimal | None:
    return _decimal(value, _l("Write the amount in USD as a number, such as 120000000."))


def _decimal(value, message) -> Decimal | None:
    if isinstance(value, bool):
        raise Cell(message)
    if isinstance(value, int | float | Decimal):
        text = repr(value) if isinstance(value, float) else str(value)
    else:
        text = re.sub(r"[\s,_]", "", _text(value)).removeprefix("$").removeprefix("US$")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise Cell(message) from None
    if not number.is_finite() or abs(number) > Decimal("1e15"):
        raise Cell(message)
    return number


READERS = {
    "country": read_country,
    "sector": read_sector,
    "technology": read_technology,
    "year": read_year,
    "amount_usd": read_amount,
    "co_financiers": lambda value: split_names("" if value is None else str(value)),
}


def read_row(columns: list[str | None], cells: tuple) -> tuple[DealInput, list[tuple[str, str]]]:
    """The deal one row describes, and (column, message) for each cell that cannot be read."""
    values: dict = {}
    errors = []
    for column, cell in zip(columns, cells, strict=False):
        if column is None:
            continue
        try:
            values[column] = READERS[column](cell)
        except Cell as error:
            errors.append((column, str(error.args[0])))
    deal = DealInput(
        country_iso2=values.get("country"),
        sector=values.get("sector"),
        technology=values.get("technology"),
        year=values.get("year"),
        amount_usd=values.get("amount_usd"),
        co_financiers=values.get("co_financiers", ()),
    )
    return deal, errors
