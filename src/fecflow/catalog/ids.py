"""The shapes of FEC identifiers, as regular expressions (PostgreSQL and Python read them alike).

Checked against the bulk files in the samples (2018-2022 cycles): every candidate id is ``H``, ``S``
or ``P``, a digit, then seven letters or digits (``H0CA12345``, ``P80001571``); a looser
``[HSP]`` + eight characters would also accept words such as ``HARTFIELD``.
"""

from __future__ import annotations

COMMITTEE_ID = r"^C[0-9]{8}$"
CANDIDATE_ID = r"^[HSP][0-9][A-Z0-9]{7}$"
# ccl and cm: FEC sometimes puts a committee id in CAND_ID (see DOMAIN.md); both are well formed.
CANDIDATE_OR_COMMITTEE_ID = r"^([HSP][0-9][A-Z0-9]{7}|C[0-9]{8})$"
SUB_ID = r"^[0-9]{19}$"
LINKAGE_ID = r"^[0-9]{1,19}$"

#: Raw column -> the shape of its non-empty values, in every file that has the column (a file spec's
#: ``id_patterns`` override these).
ID_COLUMNS: dict[str, str] = {
    "CMTE_ID": COMMITTEE_ID,
    "SUB_ID": SUB_ID,
    "CAND_ID": CANDIDATE_ID,
    "LINKAGE_ID": LINKAGE_ID,
}
