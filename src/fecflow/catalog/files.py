"""Every FEC bulk file fecflow knows, as data.

Column lists follow the FEC data-dictionary header files
(https://www.fec.gov/files/bulk-downloads/data_dictionaries/{type}_header_file.csv) and the FEC
"bulk data" descriptions. Staging DDL, parser field counts and ``docs/data/files/*.md`` are generated
from these declarations; ``tests/meta`` fails when the generated docs are stale.
"""

from __future__ import annotations

from fecflow.catalog.ids import CANDIDATE_OR_COMMITTEE_ID, COMMITTEE_ID
from fecflow.catalog.model import Column, FileRole, FileSpec
from fecflow.errors import UnknownFileType

C = Column

_TRANSACTION_HEAD = (
    C("CMTE_ID", "committee_id", "id", "Filer (recipient) committee id, 9 characters (C00...)."),
    C("AMNDT_IND", "amendment_indicator", "code", "N new, A amendment, T termination: the kind of report."),
    C("RPT_TP", "report_type", "code", "Report type (e.g. M3, Q1, YE, TER)."),
    C(
        "TRANSACTION_PGI",
        "election_type",
        "code",
        "Primary/general indicator: a letter (P, G, O, C, R, S, E) or the newer form EYYYY (P2024).",
    ),
    C("IMAGE_NUM", "image_number", "text", "Microfilm/image id: 11 digits (before mid-2015) or 18 digits."),
    C("TRANSACTION_TP", "transaction_type", "code", "FEC transaction type (15, 15E, 22Y, 24T, ...)."),
    C("ENTITY_TP", "entity_type", "code", "Contributor entity type (IND, ORG, PAC, COM, PTY, CAN, CCM)."),
    C("NAME", "contributor_name", "text", "Contributor or lender name."),
    C("CITY", "city", "text", "Contributor city."),
    C("STATE", "state", "code", "Contributor state (ZZ for foreign)."),
    C("ZIP_CODE", "zip_code", "text", "5 or 9 digit ZIP as text (leading zeros), or a foreign postcode."),
    C("EMPLOYER", "employer", "text", "Contributor employer, free text."),
    C("OCCUPATION", "occupation", "text", "Contributor occupation, free text."),
    C(
        "TRANSACTION_DT",
        "transaction_date",
        "date_mmddyyyy",
        "Transaction date MMDDYYYY; may be blank or invalid.",
    ),
    C("TRANSACTION_AMT", "amount", "amount", "Transaction amount in dollars; refunds are usually positive."),
    C("OTHER_ID", "other_id", "id", "Other FEC id: for 15E the conduit, for 24T/24I the final recipient."),
)
_TRANSACTION_TAIL = (
    C("TRAN_ID", "transaction_id", "text", "Filer's transaction id: unique only per filer and report."),
    C("FILE_NUM", "file_number", "integer", "FEC filing (report) number."),
    C("MEMO_CD", "memo_code", "code", "X = memo entry, not to be included in totals."),
    C("MEMO_TEXT", "memo_text", "text", "Free-text memo (e.g. '* EARMARKED CONTRIBUTION: SEE BELOW')."),
    C("SUB_ID", "sub_id", "bigint", "FEC record id, 19 digits, unique per row: the natural key."),
)

_SUMMARY_CANDIDATE_COLUMNS = (
    C("CAND_ID", "candidate_id", "id", "Candidate id."),
    C("CAND_NAME", "candidate_name", "text", "Candidate name."),
    C("CAND_ICI", "incumbent_challenger", "code", "I incumbent, C challenger, O open seat."),
    C("PTY_CD", "party_code", "code", "1 Democratic, 2 Republican, 3 other."),
    C("CAND_PTY_AFFILIATION", "party", "code", "Party code (DEM, REP, ...)."),
    C("TTL_RECEIPTS", "total_receipts", "amount", "Total receipts."),
    C("TRANS_FROM_AUTH", "transfers_from_authorized", "amount", "Transfers from authorized committees."),
    C("TTL_DISB", "total_disbursements", "amount", "Total disbursements."),
    C("TRANS_TO_AUTH", "transfers_to_authorized", "amount", "Transfers to authorized committees."),
    C("COH_BOP", "cash_begin", "amount", "Cash on hand at beginning of period."),
    C("COH_COP", "cash_end", "amount", "Cash on hand at close of period."),
    C("CAND_CONTRIB", "candidate_contributions", "amount", "Contributions from the candidate."),
    C("CAND_LOANS", "candidate_loans", "amount", "Loans from the candidate."),
    C("OTHER_LOANS", "other_loans", "amount", "Other loans."),
    C("CAND_LOAN_REPAY", "candidate_loan_repayments", "amount", "Candidate loan repayments."),
    C("OTHER_LOAN_REPAY", "other_loan_repayments", "amount", "Other loan repayments."),
    C("DEBTS_OWED_BY", "debts_owed_by", "amount", "Debts owed by the committee."),
    C(
        "TTL_INDIV_CONTRIB",
        "total_individual_contributions",
        "amount",
        "Total individual contributions, itemized and unitemized.",
    ),
    C("CAND_OFFICE_ST", "office_state", "code", "Office state."),
    C("CAND_OFFICE_DISTRICT", "office_district", "code", "Office district."),
    C("SPEC_ELECTION", "special_election", "text", "Special election status."),
    C("PRIM_ELECTION", "primary_election", "text", "Primary election status."),
    C("RUN_ELECTION", "runoff_election", "text", "Runoff election status."),
    C("GEN_ELECTION", "general_election", "text", "General election status."),
    C(
        "GEN_ELECTION_PRECENT",
        "general_election_percent",
        "text",
        "General election percent (FEC's spelling).",
    ),
    C(
        "OTHER_POL_CMTE_CONTRIB",
        "other_committee_contributions",
        "amount",
        "Contributions from other political committees.",
    ),
    C("POL_PTY_CONTRIB", "party_contributions", "amount", "Contributions from party committees."),
    C("CVG_END_DT", "coverage_end_date", "date_mm_dd_yyyy", "Coverage end date MM/DD/YYYY."),
    C("INDIV_REFUNDS", "individual_refunds", "amount", "Refunds to individuals."),
    C("CMTE_REFUNDS", "committee_refunds", "amount", "Refunds to committees."),
)

FILES: dict[str, FileSpec] = {}


def _declare(spec: FileSpec) -> None:
    FILES[spec.file_type] = spec


_declare(
    FileSpec(
        file_type="cm",
        role="master",
        normalize_order=2,
        required=("CMTE_ID",),
        id_patterns=(("CAND_ID", CANDIDATE_OR_COMMITTEE_ID),),
        title="Committee master",
        description="One row per registered committee in the cycle (snapshot; republished daily for the current cycle).",
        zip_name="cm{yy}.zip",
        member="cm.txt",
        header_file="cm_header_file.csv",
        unique_key=("CMTE_ID",),
        notes=("Byte-identical duplicate lines occur.", "CAND_ID is blank for non-candidate committees."),
        columns=(
            C("CMTE_ID", "committee_id", "id", "Committee id."),
            C("CMTE_NM", "committee_name", "text", "Committee name."),
            C("TRES_NM", "treasurer_name", "text", "Treasurer name."),
            C("CMTE_ST1", "street_1", "text", "Street address line 1."),
            C("CMTE_ST2", "street_2", "text", "Street address line 2."),
            C("CMTE_CITY", "city", "text", "City."),
            C("CMTE_ST", "state", "code", "State."),
            C("CMTE_ZIP", "zip_code", "text", "ZIP code."),
            C(
                "CMTE_DSGN",
                "designation",
                "code",
                "A authorized by a candidate, B lobbyist PAC, D leadership PAC, J joint fundraiser, "
                "P principal campaign committee, U unauthorized.",
            ),
            C("CMTE_TP", "committee_type", "code", "Committee type (H, S, P, X, Y, Q, N, O, ...)."),
            C("CMTE_PTY_AFFILIATION", "party", "code", "Party affiliation code."),
            C(
                "CMTE_FILING_FREQ",
                "filing_frequency",
                "code",
                "A administratively terminated, M monthly, Q quarterly, T terminated, ...",
            ),
            C(
                "ORG_TP",
                "organization_type",
                "code",
                "C corporation, L labor, M membership, T trade, V cooperative, W corp w/o stock.",
            ),
            C("CONNECTED_ORG_NM", "connected_organization", "text", "Connected organization name."),
            C("CAND_ID", "candidate_id", "id", "Candidate id for authorized committees."),
        ),
    )
)

_declare(
    FileSpec(
        file_type="cn",
        role="master",
        normalize_order=1,
        required=("CAND_ID",),
        id_patterns=(("CAND_PCC", COMMITTEE_ID),),
        title="Candidate master",
        description="One row per candidate registered in the cycle (snapshot).",
        zip_name="cn{yy}.zip",
        member="cn.txt",
        header_file="cn_header_file.csv",
        unique_key=("CAND_ID",),
        notes=("CAND_ELECTION_YR is the candidate's latest election year and can be a typo (2916).",),
        columns=(
            C("CAND_ID", "candidate_id", "id", "Candidate id (H/S/P + 8 characters)."),
            C("CAND_NAME", "candidate_name", "text", "Candidate name, LAST, FIRST."),
            C("CAND_PTY_AFFILIATION", "party", "code", "Party code."),
            C("CAND_ELECTION_YR", "election_year", "integer", "Year of election (validate, do not trust)."),
            C("CAND_OFFICE_ST", "office_state", "code", "Office state (US for president)."),
            C("CAND_OFFICE", "office", "code", "H House, S Senate, P President."),
            C("CAND_OFFICE_DISTRICT", "office_district", "code", "District (00 at-large)."),
            C("CAND_ICI", "incumbent_challenger", "code", "I incumbent, C challenger, O open seat."),
            C("CAND_STATUS", "status", "code", "C statutory candidate, F future, N not yet, P prior cycle."),
            C("CAND_PCC", "principal_committee_id", "id", "Principal campaign committee id."),
            C("CAND_ST1", "street_1", "text", "Mailing address line 1."),
            C("CAND_ST2", "street_2", "text", "Mailing address line 2."),
            C("CAND_CITY", "city", "text", "City."),
            C("CAND_ST", "state", "code", "State."),
            C("CAND_ZIP", "zip_code", "text", "ZIP code."),
        ),
    )
)

_declare(
    FileSpec(
        file_type="ccl",
        role="master",
        normalize_order=3,
        required=("CAND_ID", "CMTE_ID", "LINKAGE_ID"),
        id_patterns=(("CAND_ID", CANDIDATE_OR_COMMITTEE_ID),),
        title="Candidate-committee linkage",
        description="Links between candidates and their committees.",
        zip_name="ccl{yy}.zip",
        member="ccl.txt",
        header_file="ccl_header_file.csv",
        unique_key=("LINKAGE_ID",),
        notes=("CAND_ID sometimes holds a committee id (C0...); such rows are flagged, not dropped.",),
        columns=(
            C("CAND_ID", "candidate_id", "id", "Candidate id."),
            C("CAND_ELECTION_YR", "candidate_election_year", "integer", "Candidate's election year."),
            C("FEC_ELECTION_YR", "fec_election_year", "integer", "Active two-year period."),
            C("CMTE_ID", "committee_id", "id", "Committee id."),
            C("CMTE_TP", "committee_type", "code", "Committee type."),
            C("CMTE_DSGN", "designation", "code", "Committee designation."),
            C("LINKAGE_ID", "linkage_id", "bigint", "Unique link id."),
        ),
    )
)

_declare(
    FileSpec(
        file_type="indiv",
        role="transaction",
        normalize_order=4,
        required=("CMTE_ID", "TRANSACTION_AMT", "SUB_ID"),
        title="Contributions by individuals (itcont)",
        description="Itemized receipts from individuals (Schedule A), one row per transaction.",
        zip_name="indiv{yy}.zip",
        member="itcont.txt",
        header_file="indiv_header_file.csv",
        unique_key=("SUB_ID",),
        date_column="TRANSACTION_DT",
        notes=(
            "15E rows are earmarks reported by the final recipient, OTHER_ID = conduit.",
            "24T/24I rows are the conduit's pass-through records: never contributions.",
        ),
        columns=_TRANSACTION_HEAD + _TRANSACTION_TAIL,
    )
)

_declare(
    FileSpec(
        file_type="pas2",
        role="transaction",
        normalize_order=5,
        required=("CMTE_ID", "TRANSACTION_AMT", "SUB_ID"),
        title="Contributions from committees to candidates (itpas2)",
        description="Committee contributions to candidates and independent expenditures (24A/24E).",
        zip_name="pas2{yy}.zip",
        member="itpas2.txt",
        header_file="pas2_header_file.csv",
        unique_key=("SUB_ID",),
        date_column="TRANSACTION_DT",
        columns=_TRANSACTION_HEAD
        + (C("CAND_ID", "candidate_id", "id", "Candidate the money supports or opposes."),)
        + _TRANSACTION_TAIL,
    )
)

_declare(
    FileSpec(
        file_type="oth",
        role="transaction",
        normalize_order=6,
        required=("CMTE_ID", "TRANSACTION_AMT", "SUB_ID"),
        title="Any transaction from one committee to another (itoth)",
        description="Committee-to-committee transactions, including JFC allocations (15J memo rows).",
        zip_name="oth{yy}.zip",
        member="itoth.txt",
        header_file="oth_header_file.csv",
        unique_key=("SUB_ID",),
        date_column="TRANSACTION_DT",
        columns=_TRANSACTION_HEAD + _TRANSACTION_TAIL,
    )
)

_declare(
    FileSpec(
        file_type="weball",
        role="summary",
        required=("CAND_ID",),
        title="All candidates summary",
        description="Financial summary per candidate for the cycle (includes unitemized money).",
        zip_name="weball{yy}.zip",
        member="weball{yy}.txt",
        header_file="weball_header_file.csv",
        unique_key=("CAND_ID",),
        columns=_SUMMARY_CANDIDATE_COLUMNS,
    )
)

_declare(
    FileSpec(
        file_type="webl",
        role="summary",
        required=("CAND_ID",),
        title="House/Senate current campaigns summary",
        description="Financial summary per current House/Senate campaign.",
        zip_name="webl{yy}.zip",
        member="webl{yy}.txt",
        header_file="webl_header_file.csv",
        unique_key=("CAND_ID",),
        columns=_SUMMARY_CANDIDATE_COLUMNS,
    )
)

_declare(
    FileSpec(
        file_type="webk",
        role="summary",
        required=("CMTE_ID",),
        title="PAC and party summary",
        description="Financial summary per PAC and party committee.",
        zip_name="webk{yy}.zip",
        member="webk{yy}.txt",
        header_file="webk_header_file.csv",
        unique_key=("CMTE_ID",),
        columns=(
            C("CMTE_ID", "committee_id", "id", "Committee id."),
            C("CMTE_NM", "committee_name", "text", "Committee name."),
            C("CMTE_TP", "committee_type", "code", "Committee type."),
            C("CMTE_DSGN", "designation", "code", "Committee designation."),
            C("CMTE_FILING_FREQ", "filing_frequency", "code", "Filing frequency."),
            C("TTL_RECEIPTS", "total_receipts", "amount", "Total receipts."),
            C("TRANS_FROM_AFF", "transfers_from_affiliates", "amount", "Transfers from affiliates."),
            C(
                "INDV_CONTRIB",
                "individual_contributions",
                "amount",
                "Contributions from individuals, itemized and unitemized.",
            ),
            C(
                "OTHER_POL_CMTE_CONTRIB",
                "other_committee_contributions",
                "amount",
                "Contributions from other political committees.",
            ),
            C("CAND_CONTRIB", "candidate_contributions", "amount", "Contributions from the candidate."),
            C("CAND_LOANS", "candidate_loans", "amount", "Candidate loans."),
            C("TTL_LOANS_RECEIVED", "total_loans_received", "amount", "Total loans received."),
            C("TTL_DISB", "total_disbursements", "amount", "Total disbursements."),
            C("TRANF_TO_AFF", "transfers_to_affiliates", "amount", "Transfers to affiliates."),
            C("INDV_REFUNDS", "individual_refunds", "amount", "Refunds to individuals."),
            C("OTHER_POL_CMTE_REFUNDS", "other_committee_refunds", "amount", "Refunds to other committees."),
            C("CAND_LOAN_REPAY", "candidate_loan_repayments", "amount", "Candidate loan repayments."),
            C("LOAN_REPAY", "loan_repayments", "amount", "Loan repayments."),
            C("COH_BOP", "cash_begin", "amount", "Cash on hand at beginning of period."),
            C("COH_COP", "cash_end", "amount", "Cash on hand at close of period."),
            C("DEBTS_OWED_BY", "debts_owed_by", "amount", "Debts owed by the committee."),
            C(
                "NONFED_TRANS_RECEIVED",
                "nonfederal_transfers_received",
                "amount",
                "Nonfederal transfers received.",
            ),
            C(
                "CONTRIB_TO_OTHER_CMTE",
                "contributions_to_other_committees",
                "amount",
                "Contributions to other committees.",
            ),
            C("IND_EXP", "independent_expenditures", "amount", "Independent expenditures."),
            C("PTY_COORD_EXP", "party_coordinated_expenditures", "amount", "Party coordinated expenditures."),
            C("NONFED_SHARE_EXP", "nonfederal_share_expenses", "amount", "Nonfederal share of expenses."),
            C("CVG_END_DT", "coverage_end_date", "date_mm_dd_yyyy", "Coverage end date MM/DD/YYYY."),
        ),
    )
)


def file_types_with_role(role: FileRole) -> tuple[str, ...]:
    return tuple(ft for ft, spec in FILES.items() if spec.role == role)


#: Itemized transaction files (SUB_ID rows): indiv, pas2, oth.
TRANSACTION_FILE_TYPES = file_types_with_role("transaction")
#: The file types normalize writes to core, in its order (candidates, committees, links, transactions).
NORMALIZED_FILE_TYPES = tuple(
    sorted(
        (ft for ft, s in FILES.items() if s.normalize_order is not None),
        key=lambda ft: FILES[ft].normalize_order or 0,
    )
)


def get_file_spec(file_type: str) -> FileSpec:
    """Return the declaration of a file type, or raise UnknownFileType with the known names."""
    try:
        return FILES[file_type]
    except KeyError:
        raise UnknownFileType(
            f"Unknown FEC file type {file_type!r}.",
            hint=f"Known file types: {', '.join(FILES)}.",
        ) from None
