"""CSV: one row per (operator, address) — for spreadsheets and inventory tools.

Full: ``plmn,mcc,mnc,brand,operator,family,address``. Delta: the same with a leading
``action`` column (``add``/``remove``), one row per operator whose list changed.

A cell that a spreadsheet would read as a formula (it begins with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return — OWASP "CSV Injection") gets a leading ``'``, so an operator name from
the data never runs as a formula. :meth:`CsvRenderer.spreadsheet` adds the UTF-8 BOM and CRLF
line ends that spreadsheet programs expect (RFC 4180 uses CRLF too).
"""

from __future__ import annotations

import csv
import io

from .base import Renderer, RendererInfo
from .dscp import Dscp
from .model import Delta, IPAddress, OperatorAddresses, RenderInput
from .names import NameRules
from .options import OptionSpec

COLUMNS = ["plmn", "mcc", "mnc", "brand", "operator", "family", "address"]
#: First characters that make a spreadsheet evaluate a cell (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would evaluate as a formula; others unchanged."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def spreadsheet(text: str) -> str:
    """The same CSV for spreadsheets: a UTF-8 byte-order mark and CRLF line ends."""
    return BOM + text.replace("\n", "\r\n")


class CsvRenderer(Renderer):
    """RFC 4180 CSV with a header row."""

    info = RendererInfo(
        name="csv",
        title="CSV",
        description="plmn,mcc,mnc,brand,operator,family,address rows (delta: with an action column)",
        protocols="addresses only",
        comments=False,
        extension="csv",
        options=(
            OptionSpec("spreadsheet", "no", "yes: UTF-8 BOM and CRLF line ends, for Excel and co.", kind="choice", choices=("no", "yes")),
        ),
    )
    names = NameRules(max_length=200)

    @staticmethod
    def _row(op: OperatorAddresses, address: IPAddress) -> list[str]:
        cells = [op.plmn, op.mcc, op.mnc, op.brand or "", op.operator or "", f"ipv{address.version}", str(address)]
        return [neutralise(cell) for cell in cells]

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(self._row(op, a) for op in doc.operators for a in op.addresses)
        return self._finish(buf.getvalue())

    def _finish(self, text: str) -> str:
        return spreadsheet(text) if self.options.get("spreadsheet") == "yes" else text

    def delta(self, change: Delta, dscp: Dscp) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["action", *COLUMNS])
        for item in change.operators:
            writer.writerows(["remove", *self._row(item.current, a)] for a in item.removed)
            writer.writerows(["add", *self._row(item.current, a)] for a in item.added)
        return self._finish(buf.getvalue())


RENDERER = CsvRenderer()
