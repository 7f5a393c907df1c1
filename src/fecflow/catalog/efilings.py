"""FEC electronic filings (.fec), declared once as data: where they are published, which format
versions fecflow accepts, and which summary lines a report's own itemized schedules must add up to.

The field mapping of each form and version is not declared here: it comes with the maintained parser
(`fecfile`, whose ``mappings.json`` covers versions 1 through 8.5); see :mod:`fecflow.parse.efiling`.

Two kinds of source files:

* the FEC's **daily archive**: one zip per day, ``{efiling_base_url}/{YYYYMMDD}.zip``, one member
  ``{filing_id}.fec`` per filing received that day;
* a **single filing**: ``{efiling_filing_base_url}/{filing_id}.fec``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

#: ``ops.source_file.file_type`` of the two kinds of downloads.
DAILY_FILE_TYPE = "efiling_daily"
FILING_FILE_TYPE = "efiling"
FILE_TYPES = (DAILY_FILE_TYPE, FILING_FILE_TYPE)

#: Versions of the .fec format the FEC has published (1 through 8.5; P* for paper-to-electronic
#: conversions). A filing whose header names another version is quarantined whole, never guessed at
#: (the bundled `filing_invalid_version.fec` says "180.5", which a prefix match would read as 1).
KNOWN_VERSION = re.compile(r"^(?:[123](?:\.\d{1,2})?|5\.[0-3]\d?|6\.[1-4]|7\.0|8\.[0-5]|P[1-3](?:\.\d)?)$")

#: Lines between these markers are free text (F99 and others), not delimited records.
TEXT_BEGIN = ("[BEGINTEXT]", "[BEGIN TEXT]")
TEXT_END = ("[ENDTEXT]", "[END TEXT]")

#: Record types of staged lines that are not form lines.
HEADER_RECORD = "HDR"
TEXT_RECORD = "TEXT"
BLANK_RECORD = "BLANK"

#: Forms that carry a report summary page (and their amendment / new / termination variants).
REPORT_FORMS = ("F3", "F3X", "F3P")


def daily_archive_url(base_url: str, day: dt.date) -> str:
    return f"{base_url.rstrip('/')}/{day:%Y%m%d}.zip"


def filing_url(base_url: str, filing_id: int) -> str:
    return f"{base_url.rstrip('/')}/{filing_id}.fec"


def report_family(form_type: str) -> str | None:
    """``F3N``/``F3A``/``F3T`` -> ``F3``; ``F3XA`` -> ``F3X``; ``F3PN`` -> ``F3P``; other forms None."""
    form = form_type.strip().upper()
    for family in ("F3X", "F3P", "F3"):
        if form == family or (form.startswith(family) and form[len(family) :] in ("N", "A", "T")):
            return family
    return None


@dataclass(frozen=True)
class SummaryLine:
    """One line of a report's summary page and the itemized schedule lines that support it.

    ``schedules``: the form types of the itemized rows (``SA11AI``; a prefix matches ``SA11AI``
    only, compared after upper-casing). ``rule``: ``equal`` when the line holds itemized money only
    (the non-memo schedule rows must add up to it, to the cent); ``unitemized`` when the line is the
    unitemized money (kept as data: the small donors that itemized rows miss).
    """

    line: str  # the FEC line number, e.g. 11(a)(i)
    field: str  # the column A field name (fecfile) on the summary record
    label: str
    rule: str  # equal | unitemized
    schedules: tuple[str, ...] = ()


#: Per report family, the summary lines fecflow reconciles or keeps. Field names are fecfile's; the
#: same names hold from version 3 to 8.5 for these lines (checked on the bundled samples).
SUMMARY_LINES: dict[str, tuple[SummaryLine, ...]] = {
    "F3": (
        SummaryLine("11(a)(i)", "col_a_individual_contributions_itemized", "individuals, itemized", "equal",
                    ("SA11AI",)),
        SummaryLine("11(a)(ii)", "col_a_individual_contributions_unitemized", "individuals, unitemized",
                    "unitemized"),
        SummaryLine("12", "col_a_transfers_from_authorized", "transfers from other authorized committees",
                    "equal", ("SA12",)),
    ),
    "F3X": (
        SummaryLine("11(a)(i)", "col_a_individuals_itemized", "individuals, itemized", "equal",
                    ("SA11AI", "SA11A1")),
        SummaryLine("11(a)(ii)", "col_a_individuals_unitemized", "individuals, unitemized", "unitemized"),
        SummaryLine("12", "col_a_transfers_from_aff_other_party_cmttees", "transfers from affiliated committees",
                    "equal", ("SA12",)),
    ),
    "F3P": (
        SummaryLine("17(a)(i)", "col_a_individuals_itemized", "individuals, itemized", "equal", ("SA17A",)),
        SummaryLine("17(a)(ii)", "col_a_individuals_unitemized", "individuals, unitemized", "unitemized"),
        SummaryLine("18", "col_a_transfers_from_aff_other_party_cmttees", "transfers from other authorized committees",
                    "equal", ("SA18",)),
    ),
}

#: Amount and memo fields of itemized schedule rows (fecfile names).
SCHEDULE_AMOUNT_FIELDS = {"SA": "contribution_amount", "SB": "expenditure_amount", "SE": "expenditure_amount"}
MEMO_FIELD = "memo_code"


#: Per report family, the schedule lines that become preliminary rows in ``core.efiling_transaction``
#: and the FEC transaction type the processed (bulk) row of the same line carries, so the one
#: counting-rule table decides what they mean. ``15`` becomes ``15E`` when the row names a conduit
#: (an earmarked contribution). Line numbers mean different things on different forms (SA18 is a
#: transfer from an authorized committee on F3P, a non-federal transfer on F3X), hence per family.
#: Only reports (F3, F3X, F3P): 48-hour notices (F6) and 24/48-hour IE reports (F24) are reported
#: again on the next report, and counting both would count their money twice.
PRELIMINARY_LINES: dict[str, dict[str, str]] = {
    "F3": {"SA11AI": "15", "SA11B": "18K", "SA11C": "18K", "SA11D": "15C", "SA12": "18G", "SB20A": "22Y"},
    "F3X": {
        "SA11AI": "15", "SA11A1": "15", "SA11B": "18K", "SA11C": "18K", "SA12": "18G", "SB23": "24K",
        "SB28A": "22Y", "SE": "24E",
    },
    "F3P": {"SA17A": "15", "SA17B": "18K", "SA17C": "18K", "SA17D": "15C", "SA18": "18G", "SB28A": "22Y"},
}
#: The bulk file the FEC puts each preliminary transaction type in when it processes the filing
#: (individual receipts and their refunds: itcont; contributions to candidates and independent
#: expenditures: itpas2); every other type (18K, 18G) is in itoth.
BULK_SOURCE_OF_TYPE: dict[str, str] = {
    "15": "indiv", "15E": "indiv", "15C": "indiv", "22Y": "indiv", "24K": "pas2", "24E": "pas2", "24A": "pas2",
}  # fmt: skip
#: Schedule E rows opposing the candidate (support_oppose_code O) are 24A, supporting ones 24E.
OPPOSE_TRANSACTION_TYPE = "24A"
EARMARKED_TRANSACTION_TYPE = "15E"
