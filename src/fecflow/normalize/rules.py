"""The one versioned counting-rule table: what every FEC transaction type means for the money.

Every total, every reconciliation and the leaning engine read this table (loaded into
``ref.counting_rule`` by :func:`fecflow.normalize.reference.load_reference`); nothing else decides
whether a row is money. Change a rule only together with :data:`RULE_VERSION`.

How to use a rule (the contract, also rendered into ``docs/data/counting-rules.md``):

* ``counts_as_contribution``: the row enters *net contribution* totals.
* ``sign``: multiply the reported amount by it. ``+1`` money given, ``-1`` money returned (refunds:
  the transaction type, not the sign of the amount, marks a refund), ``0`` a memo that is never money.
  Net giving = ``SUM(sign * amount) WHERE counts_as_contribution``. A negative amount on a refund row
  (a reversed refund) therefore adds back, as it should.
* ``category``: what the row is; independent-expenditure, transfer and loan rows keep ``sign = +1``
  so their own totals can be built from the same table, but they never count as contributions.
* ``memo``: ``MEMO_CD = 'X'``. A memo row never counts (category ``memo``, sign 0) whatever its type,
  but keeps its type's reason and refund flag for attribution.
* ``filer_side``: which side of the money the filer (CMTE_ID) is on: ``recipient`` (receipts, and the
  refunds and repayments of receipts) or ``giver`` (contributions made, independent expenditures,
  transfers and pass-throughs out, loans made and other disbursements, and the refunds and repayments
  the filer gets back of those). The other party is OTHER_ID / the contributor. A refund points at
  the side of the original money, so netting it needs no second rule.

Committee-to-committee money is counted once, on the *giver's* side (24K, 24Z, ... in pas2/oth); the
recipient's mirror rows (18K, 15Z, 22Z, ...) are transfers. Earmarks are counted once, at the final
recipient (15E); the conduit's rows (15I/15T in, 24I/24T out) are pass-throughs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

RULE_VERSION = "2026.1"

CATEGORIES = (
    "contribution",
    "earmarked_contribution",
    "memo",
    "conduit_passthrough",
    "refund",
    "candidate_self",
    "independent_expenditure_for",
    "independent_expenditure_against",
    "transfer",
    "loan",
    "other",
)

# Categories whose rows count as net contributions when not memo.
_COUNTED = {"contribution", "earmarked_contribution", "refund"}


FILER_SIDES = ("recipient", "giver")


@dataclass(frozen=True)
class CountingRule:
    transaction_type: str
    memo: bool
    category: str
    counts_as_contribution: bool
    is_refund: bool
    sign: int
    reason: str
    filer_side: str = "recipient"


# (code, category for MEMO_CD blank, reason). Memo-coded twins are derived in _build_rules().
# fmt: off
_BASE: tuple[tuple[str, str, str], ...] = (
    # --- receipts from individuals and other persons: the donor signal ---------------------------------
    ("10", "contribution", "Contribution from a person to a Super PAC, hybrid PAC's non-contribution account or (1991-2002) a party's soft-money account: real money from the donor."),
    ("11", "contribution", "Contribution from a Native American tribe: real money from the donor."),
    ("13", "contribution", "Donation accepted by a presidential inaugural committee: real money from the donor."),
    ("15", "contribution", "Contribution from an individual, partnership or LLC to a political committee: the basic donor row."),
    ("15E", "earmarked_contribution", "Earmarked contribution reported by the final recipient: counted here, once; the conduit (OTHER_ID, e.g. ActBlue/WinRed) is an attribute, never the recipient."),
    ("18U", "contribution", "Contribution from an unregistered committee: the giver files no FEC report, so the receipt is the only record of the money."),
    ("30", "contribution", "Individual's receipt into a national party's convention account: real money from the donor."),
    ("30T", "contribution", "Native American tribe's receipt into a national party's convention account: real money from the donor."),
    ("31", "contribution", "Individual's receipt into a national party's headquarters account: real money from the donor."),
    ("31T", "contribution", "Native American tribe's receipt into a national party's headquarters account: real money from the donor."),
    ("32", "contribution", "Individual's receipt into a national party's recount account: real money from the donor."),
    ("32T", "contribution", "Native American tribe's receipt into a national party's recount account: real money from the donor."),
    # --- committee giving, counted on the giver's side ----------------------------------------------------
    ("24K", "contribution", "Contribution made to a nonaffiliated committee (pas2/oth): committee giving, counted on the giver's side."),
    ("24P", "contribution", "Contribution (incl. in-kind) made to a possible federal candidate: committee giving, counted on the giver's side."),
    ("24U", "contribution", "Contribution made to an unregistered (non-federal) entity: real money given, no mirror row in FEC data."),
    ("24Z", "contribution", "In-kind contribution made to a registered filer: committee giving, counted on the giver's side."),
    # --- refunds: the type, not the sign, marks money going back -----------------------------------------
    ("17R", "refund", "Contribution refund received from a registered entity: nets the filer's own earlier contribution (giver's side)."),
    ("17Z", "refund", "Refund/return received from a candidate or committee: nets the filer's own earlier contribution (giver's side)."),
    ("20Y", "refund", "Nonfederal refund: nets a nonfederal receipt such as type 10."),
    ("21Y", "refund", "Refund to a Native American tribe: nets type 11."),
    ("22R", "refund", "Contribution refund to an unregistered entity: nets a receipt such as 18U."),
    ("22Y", "refund", "Contribution refund to an individual, partnership or LLC: nets the donor's giving (usually a positive amount in bulk files)."),
    ("23Y", "refund", "Inaugural donation refund: nets type 13."),
    ("40T", "refund", "Convention-account refund to a Native American tribe: nets 30T."),
    ("40Y", "refund", "Convention-account refund to an individual: nets type 30."),
    ("41T", "refund", "Headquarters-account refund to a Native American tribe: nets 31T."),
    ("41Y", "refund", "Headquarters-account refund to an individual: nets type 31."),
    ("42T", "refund", "Recount-account refund to a Native American tribe: nets 32T."),
    ("42Y", "refund", "Recount-account refund to an individual: nets type 32."),
    # --- conduits: pass-throughs never count ----------------------------------------------------------
    ("15I", "conduit_passthrough", "Earmark received by an intermediary and passed on as the contributor's check (intermediary in): counted at the final recipient's 15E."),
    ("15T", "conduit_passthrough", "Earmark received into an intermediary's treasury (intermediary treasury in): counted at the final recipient's 15E."),
    ("24I", "conduit_passthrough", "Earmarked contributor's check passed on by the intermediary (intermediary out): the conduit is never the recipient."),
    ("24T", "conduit_passthrough", "Earmarked money passed on from the intermediary's treasury (treasury out): the conduit is never the recipient."),
    # --- candidates' own money ----------------------------------------------------------------------
    ("15C", "candidate_self", "Contribution from the candidate to their own campaign: self-funding, not a donor signal."),
    ("15F", "candidate_self", "Loan forgiven by the candidate (becomes a contribution from the candidate): self-funding, not a donor signal."),
    # --- independent expenditures and communication costs -------------------------------------------------
    ("24A", "independent_expenditure_against", "Independent expenditure opposing a candidate: spending, not a contribution; opposition, never support."),
    ("24E", "independent_expenditure_for", "Independent expenditure advocating a candidate: spending, not a contribution."),
    ("24F", "independent_expenditure_for", "Communication cost for a candidate (Form 7, corporations/unions to their members): support spending, not a contribution."),
    ("24N", "independent_expenditure_against", "Communication cost against a candidate (Form 7): opposition spending, not a contribution."),
    # --- JFC allocations and other 'Memo -' types: memos by definition ---------------------------------
    ("10J", "memo", "Memo type: recipient's share of a nonfederal receipt via a joint fundraising committee; the money is counted where the donor gave it."),
    ("11J", "memo", "Memo type: recipient's share of a tribe's contribution via a joint fundraising committee; counted where the donor gave it."),
    ("15J", "memo", "Memo type: JFC participant's share of an individual's contribution (memo even when MEMO_CD is blank); keep for attribution, never add to totals."),
    ("18J", "memo", "Memo type: JFC participant's share of a committee's contribution; keep for attribution, never add to totals."),
    ("19J", "memo", "Memo type: JFC participant's share of an electioneering-communication donation; never money."),
    ("30F", "memo", "Memo type: convention-account share of a committee's contribution via a JFC; never money."),
    ("30J", "memo", "Memo type: convention-account share of an individual's contribution via a JFC; never money."),
    ("31F", "memo", "Memo type: headquarters-account share of a committee's contribution via a JFC; never money."),
    ("31J", "memo", "Memo type: headquarters-account share of an individual's contribution via a JFC; never money."),
    ("32F", "memo", "Memo type: recount-account share of a committee's contribution via a JFC; never money."),
    ("32J", "memo", "Memo type: recount-account share of an individual's contribution via a JFC; never money."),
    # --- transfers and the recipient's mirror of committee giving -------------------------------------
    ("15Z", "transfer", "In-kind contribution received from a registered filer: mirror of the giver's 24Z, counted there."),
    ("18G", "transfer", "Transfer in from an affiliated committee (e.g. a JFC distributing proceeds): the money was counted when the donor gave it."),
    ("18K", "transfer", "Contribution received from a registered filer: mirror of the giver's 24K, counted there."),
    ("22Z", "transfer", "Contribution refund to a candidate or committee: mirror of the receiving committee's 17R/17Z, netted there."),
    ("24G", "transfer", "Transfer out to an affiliated committee: movement inside one group of committees, not a contribution."),
    ("30G", "transfer", "Convention account: transfer in from an affiliated committee."),
    ("30K", "transfer", "Convention-account receipt from a registered filer: mirror of the giver's contribution row, counted there."),
    ("31G", "transfer", "Headquarters account: transfer in from an affiliated committee."),
    ("31K", "transfer", "Headquarters-account receipt from a registered filer: mirror of the giver's contribution row, counted there."),
    ("32G", "transfer", "Recount account: transfer in from an affiliated committee."),
    ("32K", "transfer", "Recount-account receipt from a registered filer: mirror of the giver's contribution row, counted there."),
    ("40Z", "transfer", "Convention-account refund to a registered filer: mirror of the filer's refund-received row, netted there."),
    ("41Z", "transfer", "Headquarters-account refund to a registered filer: mirror of the filer's refund-received row, netted there."),
    ("42Z", "transfer", "Recount-account refund to a registered filer: mirror of the filer's refund-received row, netted there."),
    # --- loans -----------------------------------------------------------------------------------------
    ("16C", "loan", "Loan received from the candidate: repayable self-funding; counted only if forgiven (15F, not counted either)."),
    ("16F", "loan", "Loan received from a bank: debt, not a contribution."),
    ("16G", "loan", "Loan from an individual: repayable debt, not counted as a contribution."),
    ("16H", "loan", "Loan from a registered filer: repayable debt, not a contribution."),
    ("16J", "loan", "Loan repayment received from an individual: debt movement, not a contribution."),
    ("16K", "loan", "Loan repayment received from a registered filer: debt movement, not a contribution."),
    ("16L", "loan", "Loan repayment received from an unregistered entity: debt movement, not a contribution."),
    ("16R", "loan", "Loan received from a registered filer: repayable debt, not a contribution."),
    ("16U", "loan", "Loan received from an unregistered entity: repayable debt, not a contribution."),
    ("20C", "loan", "Loan repayment made to the candidate: debt movement, not a contribution."),
    ("20F", "loan", "Loan repayment made to a bank: debt movement, not a contribution."),
    ("20G", "loan", "Loan repayment made to an individual: debt movement, not a contribution."),
    ("20R", "loan", "Loan repayment made to a registered filer: debt movement, not a contribution."),
    ("22G", "loan", "Loan made to an individual: debt, not a contribution."),
    ("22H", "loan", "Loan made to a candidate or committee: debt, not a contribution."),
    ("22J", "loan", "Loan repayment made to an individual: debt movement, not a contribution."),
    ("22K", "loan", "Loan repayment made to a candidate or committee: debt movement, not a contribution."),
    ("22L", "loan", "Loan repayment made to a bank: debt movement, not a contribution."),
    ("22U", "loan", "Loan repaid to an unregistered entity: debt movement, not a contribution."),
    ("22X", "loan", "Loan made to an unregistered entity: debt, not a contribution."),
    # --- everything else: real rows, but not contributions ---------------------------------------------
    ("12", "other", "Nonfederal Levin-account receipt: party's nonfederal money, outside contribution totals."),
    ("17U", "other", "Refund/rebate/return received from an unregistered entity (vendor rebates): an offset to spending, not a contribution."),
    ("17Y", "other", "Refund/rebate/return from an individual or corporation (vendor rebates): an offset to spending, not a contribution."),
    ("18H", "other", "Honorarium received: not a contribution."),
    ("18L", "other", "Bundled contribution (lobbyist bundling disclosure): the underlying contributions are itemized separately; counting it would double count."),
    ("19", "other", "Donation to fund electioneering communications (Form 9): not a contribution to a political committee."),
    ("20", "other", "Nonfederal disbursement from a party's soft-money account (1991-2002): spending, not a contribution."),
    ("20A", "other", "Levin-account disbursement (voter registration): spending, not a contribution."),
    ("20B", "other", "Levin-account disbursement (voter identification): spending, not a contribution."),
    ("20D", "other", "Levin-account disbursement (generic campaign): spending, not a contribution."),
    ("20V", "other", "Levin-account disbursement (get out the vote): spending, not a contribution."),
    ("24C", "other", "Coordinated party expenditure: party spending on a candidate's behalf, not a contribution."),
    ("24H", "other", "Honorarium to a candidate: a payment, not a contribution."),
    ("24R", "other", "Election recount disbursement: spending, not a contribution."),
    ("28L", "other", "Refund of a bundled contribution (bundling disclosure): not counted, like 18L."),
    ("29", "other", "Electioneering communication disbursement or obligation: spending, not a contribution."),
    ("40", "other", "Convention-account disbursement: spending, not a contribution."),
    ("41", "other", "Headquarters-account disbursement: spending, not a contribution."),
    ("42", "other", "Recount-account disbursement: spending, not a contribution."),
)
# fmt: on

# Types whose filer is the *giving* side of the money (see ``filer_side``); every other type is
# filed by the receiving side. All 24x are disbursements (contributions made, independent expenditures,
# transfers and pass-throughs out, coordinated spending, honoraria paid); 17R/17Z return the filer's own
# contribution and 17U/17Y its spending; 16J/16K/16L repay a loan the filer made; 22G/22H/22X are
# loans made; 20, 20A-20V, 29, 40, 41, 42 are spending.
GIVER_FILED_TYPES = frozenset(
    {
        "24A", "24C", "24E", "24F", "24G", "24H", "24I", "24K", "24N", "24P", "24R", "24T", "24U", "24Z",
        "17R", "17U", "17Y", "17Z",
        "16J", "16K", "16L",
        "22G", "22H", "22X",
        "20", "20A", "20B", "20D", "20V", "29", "40", "41", "42",
    }
)  # fmt: skip

MEMO_REASON = "MEMO_CD = X: a memo entry, 'not to be included in the total' (itemization, allocation, earmark memo); never money, kept for attribution."


def _build_rules() -> tuple[CountingRule, ...]:
    rules: list[CountingRule] = []
    for code, category, reason in _BASE:
        is_refund = category == "refund"
        counts = category in _COUNTED
        if category == "memo":
            sign = 0
        elif is_refund:
            sign = -1
        else:
            sign = 1
        side = "giver" if code in GIVER_FILED_TYPES else "recipient"
        rules.append(CountingRule(code, False, category, counts, is_refund, sign, reason, side))
        rules.append(CountingRule(code, True, "memo", False, is_refund, 0, f"{MEMO_REASON} Type: {reason}", side))
    return tuple(sorted(rules, key=lambda r: (r.transaction_type, r.memo)))


RULES: tuple[CountingRule, ...] = _build_rules()
_BY_KEY: dict[tuple[str, bool], CountingRule] = {(r.transaction_type, r.memo): r for r in RULES}

UNKNOWN_REASON = "Transaction type not in the rule table: never counted until a rule is added (see docs/data/counting-rules.md)."


def rule_for(transaction_type: str | None, memo_code: str | None = None) -> CountingRule:
    """The rule for one row; unknown or blank types are category ``other`` and never count."""
    code = (transaction_type or "").strip().upper()
    memo = (memo_code or "").strip().upper() == "X"
    rule = _BY_KEY.get((code, memo))
    if rule is not None:
        return rule
    return CountingRule(
        code, memo, "memo" if memo else "other", False, False, 0 if memo else 1, UNKNOWN_REASON
    )


def rules_for_sql() -> list[tuple[str, str, bool, str, bool, bool, int, str, str]]:
    """Rows for ``ref.counting_rule``: (rule_version, transaction_type, memo, category,
    counts_as_contribution, is_refund, sign, reason, filer_side)."""
    return [
        (
            RULE_VERSION,
            r.transaction_type,
            r.memo,
            r.category,
            r.counts_as_contribution,
            r.is_refund,
            r.sign,
            r.reason,
            r.filer_side,
        )
        for r in RULES
    ]


@cache
def _type_descriptions() -> dict[str, str]:
    text = (
        resources.files("fecflow.normalize")
        .joinpath("data", "fec_transaction_type_codes.csv")
        .read_text("utf-8")
    )
    return {
        row["transaction_type"]: row["transaction_type_description"]
        for row in csv.DictReader(io.StringIO(text))
    }


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_counting_rules_doc() -> str:
    """The full text of ``docs/data/counting-rules.md`` (a test fails when the file is stale)."""
    descriptions = _type_descriptions()
    lines = [
        "<!-- generated by fecflow.normalize.rules.render_counting_rules_doc(); do not edit by hand -->",
        f"# Counting rules (version `{RULE_VERSION}`)",
        "",
        "One versioned table decides, for every FEC transaction type and memo code, whether a row is",
        "money, an allocation memo, a pass-through or a refund. It lives in",
        "`src/fecflow/normalize/rules.py`, is loaded into `ref.counting_rule`, and every total, check and",
        "leaning score reads it; two code paths with different rules is how published aggregates come to",
        "disagree. Changing a rule means a new `RULE_VERSION`.",
        "",
        "## Principles",
        "",
        "- **Net giving = `SUM(sign * amount)` over rows with `counts_as_contribution`.** `sign` is +1 for",
        "  money given, -1 for refunds and 0 for memos.",
        "- **The transaction type, not the sign of the amount, marks a refund.** 22Y (refund to an individual)",
        "  and the other refund types are usually *positive* in bulk files; their rule has `is_refund` and",
        "  `sign = -1`, so they are netted against the donor's giving. Negative amounts (reversals,",
        "  termination-report corrections) are kept and netted the same way: a negative refund adds back.",
        "- **Memo rows (`MEMO_CD = X`) never count** (`category = memo`, `sign = 0`): they are itemizations,",
        "  JFC allocations or earmark memos of money reported elsewhere. They are kept for attribution. The",
        "  'Memo -' types (10J, 11J, 15J, 18J, 19J, 30F/J, 31F/J, 32F/J) are memos even when MEMO_CD is blank.",
        "- **Earmarks count once, at the final recipient.** The recipient reports 15E with the conduit",
        "  (ActBlue C00401224, WinRed C00694323, ...) in OTHER_ID; that row counts. The conduit's own rows",
        "  (15I/15T in, 24I/24T out) are pass-throughs and never count; the conduit is never the recipient",
        "  for leaning.",
        "- **Joint fundraising committees: one level only.** The donor's row at the JFC counts; the JFC's",
        "  transfers to participants (24G/18G) are transfers and the participants' 15J/18J shares are memos.",
        "  Attribution to participants uses the 15J memos, never their amounts on top of the JFC total.",
        "- **Committee-to-committee money counts on the giver's side** (24K, 24Z, 24P, ... in pas2/oth) and",
        "  its refunds on the giver's side too (17R/17Z). The recipient's mirror rows (18K, 15Z, 22Z, 30K/31K/32K,",
        "  40Z/41Z/42Z) are transfers, so nothing is counted twice.",
        "- **Who gave and who received: `filer_side`.** A row is filed by CMTE_ID; `filer_side` says whether",
        "  the filer is the `recipient` of the money (receipts such as 15, 15E, 18K, and the refunds of",
        "  receipts such as 22Y, 22Z) or the `giver` (24K/24Z contributions made, 24E/24A spending, 24T/24I",
        "  pass-throughs out, 24G transfers out, loans made, other disbursements, and the refunds the filer",
        "  gets back of its own giving: 17R/17Z). `core.contribution` stamps it on every row and the view",
        "  `core.contribution_flow` turns it into `giver_committee_key` / `receiver_committee_key`: the",
        "  leaning engine orients money the same way.",
        "- **Candidate self-funding is not a donor signal** (15C, 15F: `candidate_self`; 16C is a loan).",
        "- **Independent expenditures are not contributions.** 24E (and Form 7 communication costs 24F)",
        "  support a candidate, 24A (and 24N) oppose one; they have their own categories, `sign = +1`.",
        "- **Unitemized money** is not in itemized rows at all (only in weball/webk summaries): report it",
        "  separately; leaning from itemized rows only is biased toward large donors.",
        "- **Unknown transaction types never count** (`rule_for()` returns category `other`) until a rule",
        "  is added; a check should report them.",
        "",
        "## Columns",
        "",
        "| column | meaning |",
        "|---|---|",
        "| `transaction_type` | FEC TRANSACTION_TP |",
        "| `memo` | MEMO_CD = 'X' |",
        "| `category` | " + ", ".join(f"`{c}`" for c in CATEGORIES) + " |",
        "| `counts_as_contribution` | the row enters net contribution totals (with `sign`) |",
        "| `is_refund` | the type is a refund (kept on memo rows too) |",
        "| `sign` | multiply the amount by it: +1 given, -1 returned, 0 never money |",
        "| `filer_side` | the filer's side of the money: `recipient` or `giver` (a refund: the side of the original money) |",
        "",
        f"## The rules ({len(RULES)} rows: {len(RULES) // 2} types x memo blank / X)",
        "",
        "| type | FEC description | memo | category | counts | refund | sign | filer | reason |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in RULES:
        lines.append(
            f"| `{r.transaction_type}` | {_md(descriptions.get(r.transaction_type, ''))} | "
            f"{'X' if r.memo else ''} | {r.category} | {'yes' if r.counts_as_contribution else 'no'} | "
            f"{'yes' if r.is_refund else 'no'} | {f'{r.sign:+d}' if r.sign else '0'} | {r.filer_side} | "
            f"{_md(r.reason)} |"
        )
    lines.append("")
    return "\n".join(lines)
