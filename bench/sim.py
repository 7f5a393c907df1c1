"""A deterministic simulator of FEC bulk files with known true leans, and the calibration it feeds.

    python bench/sim.py                                  # full run (make calibrate): bench/calibration.json
    python bench/sim.py --employers 600 --pacs 250       # the size the test suite runs

:func:`write_bulk_files` writes cn, cm, ccl, itcont, itpas2 and itoth in the FEC bulk layout (pipe
delimited, no header) from a seeded ``random.Random``; :func:`calibrate` stages and normalizes them
through the real steps into a real PostgreSQL, scores them with every method version and compares
each scored employer and committee with its true lean: 95%-interval coverage, mean absolute error,
mean interval width.

What the simulator assumes (the truth the scores are measured against):

* **Employers** have a true lean ``theta ~ Beta(1.2, 1.2)``. Each has ``1 + lognormal`` donors (median
  about 4, a long tail); a donor's own lean is ``x ~ Beta(2 theta, 2 (1 - theta))`` (people scatter
  widely around their employer), and each of their 1-4 gifts is Republican with probability ``x``:
  70% straight to a House campaign (30% of those earmarked through ActBlue / WinRed: 15E at the
  campaign, 24T at the conduit), 10% to a party committee, 10% to a one-party JFC (participants'
  15J memos, 60/40), 10% to an intermediary PAC chosen so that the PAC's true split has mean ``x``
  (one D-leaning and one R-leaning PAC, mixed). 3% of gifts are refunded in full (22Y).
* **Intermediary PACs** (non-connected) have a true split ``p`` (half ``Beta(1.5, 6)``, half
  ``Beta(6, 1.5)``) and make few contributions (``1 + lognormal``, median about 3): each to a
  Republican campaign with probability ``p``; 15% of them also give to another PAC chosen the same
  way as donors do (so their truth stays ``p``).
* **Own PACs**: 30% of employers sponsor a corporate PAC (``ORG_TP`` C; the connected organization
  named in 60% of them, else only in the committee name) with ``p ~ Beta(4, 2.5)``, independent of
  the employer's people. Half of the employer's donors also give six $100 payroll gifts to it.
  The employer's truth is its people's ``theta``: payroll gifts to the own PAC are not their choice
  of party (issue #16). The own PAC's truth is its ``p``.
* Amounts are lognormal (individuals: median about $150; PACs: about $2,000). All rows fall in
  2019-01-01 .. 2020-06-30 and are scored as of 2020-06-30 (24-month window).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
AS_OF = dt.date(2020, 6, 30)
START = dt.date(2019, 1, 1)
CYCLE = 2020
ACTBLUE, WINRED = "C00401224", "C00694323"
FILE_NAMES = {"cn": "cn.txt", "cm": "cm.txt", "ccl": "ccl.txt", "indiv": "itcont.txt", "pas2": "itpas2.txt", "oth": "itoth.txt"}
SYLLABLES = ("KOR", "VAN", "MEL", "ITH", "ZOL", "VIX", "TAR", "NEL", "QUI", "BRA", "DOS", "FEN", "LUM", "RAK", "SOV", "PEL")


@dataclass(frozen=True)
class SimConfig:
    seed: int = 16
    employers: int = 4000
    pacs: int = 1500
    candidates_per_party: int = 40
    jfcs_per_party: int = 4
    own_pac_share: float = 0.3


@dataclass
class Truth:
    employers: dict[str, float] = field(default_factory=dict)  # raw employer string -> theta
    own_pac_employers: set[str] = field(default_factory=set)  # raw strings of employers with an own PAC
    committees: dict[str, float] = field(default_factory=dict)  # committee id -> p


class _Writer:
    """Rows of every file, with running SUB_IDs and image numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rows: dict[str, list[str]] = {name: [] for name in FILE_NAMES}
        self._sub = 4_000_000_000_000_000_000
        self._tran = 0

    def add(self, file_type: str, fields: list[object]) -> None:
        self.rows[file_type].append("|".join("" if f is None else str(f) for f in fields))

    def day(self) -> str:
        offset = self.rng.randrange((AS_OF - START).days + 1)
        return (START + dt.timedelta(days=offset)).strftime("%m%d%Y")

    def ids(self) -> tuple[str, str, int]:
        self._sub += 1
        self._tran += 1
        return f"2019{self._tran:014d}", f"SA{self._tran}", self._sub

    def transaction(
        self, file_type: str, filer: str, tp: str, entity: str, name: str, amount: int,
        *, other: str = "", cand: str = "", employer: str = "", memo: str = "", day: str | None = None,
        zip_code: str = "90001",
    ) -> None:  # fmt: skip
        image, tran, sub = self.ids()
        head = [filer, "N", "Q2", "P", image, tp, entity, name, "LOS ANGELES", "CA", zip_code, employer,
                "ENGINEER" if employer else "", day or self.day(), amount, other]  # fmt: skip
        tail = [tran, 1400000, memo, "", sub]
        self.add(file_type, head + ([cand] if file_type == "pas2" else []) + tail)


def _lognormal(rng: random.Random, median: float, sigma: float) -> int:
    return max(1, round(median * math.exp(rng.gauss(0, sigma))))


def _count(rng: random.Random, mu: float, sigma: float, cap: int) -> int:
    return min(cap, 1 + int(math.exp(rng.gauss(mu, sigma))))


def _names(rng: random.Random, n: int) -> Iterator[str]:
    seen: set[str] = set()
    while len(seen) < n:
        name = " ".join("".join(rng.choice(SYLLABLES) for _ in range(3)) for _ in range(2))
        if name not in seen:
            seen.add(name)
            yield name


def _pick_pac(rng: random.Random, lean: float, dems: list[tuple[str, float]], reps: list[tuple[str, float]]) -> str:
    """A PAC whose true split has expectation ``lean``: one D-leaning and one R-leaning PAC, mixed."""
    d_id, p_d = rng.choice(dems)
    r_id, p_r = rng.choice(reps)
    weight_r = min(max((lean - p_d) / (p_r - p_d), 0.0), 1.0) if p_r > p_d else 0.5
    return r_id if rng.random() < weight_r else d_id


def write_bulk_files(out: Path, config: SimConfig) -> Truth:
    """Write the six bulk files into ``out``; return the true leans."""
    rng = random.Random(config.seed)
    w = _Writer(rng)
    truth = Truth()
    campaigns: dict[str, list[tuple[str, str]]] = {"D": [], "R": []}  # (committee id, candidate id)
    n = 0
    for side, party in (("D", "DEM"), ("R", "REP")):
        for _ in range(config.candidates_per_party):
            n += 1
            cand, cmte = f"H0CA{n:05d}", f"C1{n:07d}"
            campaigns[side].append((cmte, cand))
            w.add("cn", [cand, f"CANDIDATE{n}, SIM", party, 2020, "CA", "H", "01", "C", "C", cmte, "", "", "LA", "CA", "90001"])
            w.add("cm", [cmte, f"SIM {n} FOR CONGRESS", "", "", "", "LA", "CA", "90001", "P", "H", party, "Q", "", "", cand])
            w.add("ccl", [cand, 2020, 2020, cmte, "H", "P", 900000 + n])
    parties = {"D": "C20000001", "R": "C20000002"}
    for side, cmte in parties.items():
        w.add("cm", [cmte, f"SIM {side} PARTY", "", "", "", "DC", "DC", "20001", "U", "Y", "DEM" if side == "D" else "REP", "M", "", "", ""])
    for cmte, name in ((ACTBLUE, "ACTBLUE"), (WINRED, "WINRED")):
        w.add("cm", [cmte, name, "", "", "", "DC", "DC", "20001", "U", "V", "", "M", "", "", ""])
    jfcs: dict[str, list[tuple[str, list[str]]]] = {"D": [], "R": []}
    for side in ("D", "R"):
        for j in range(config.jfcs_per_party):
            cmte = f"C5{len(jfcs['D']) + len(jfcs['R']) + 1:07d}"
            members = [rng.choice(campaigns[side])[0], parties[side]]
            jfcs[side].append((cmte, members))
            w.add("cm", [cmte, f"SIM VICTORY FUND {side}{j}", "", "", "", "DC", "DC", "20001", "J", "N", "", "Q", "", "", ""])

    def give_to_campaign(giver: str, side: str, amount: int, file_type: str = "pas2") -> None:
        cmte, cand = rng.choice(campaigns[side])
        w.transaction(file_type, giver, "24K", "CCM", f"SIM {cmte}", amount, other=cmte, cand=cand)

    pacs: dict[str, list[tuple[str, float]]] = {"D": [], "R": []}
    for i in range(config.pacs):
        cmte = f"C3{i + 1:07d}"
        side = "D" if i % 2 == 0 else "R"
        p = rng.betavariate(1.5, 6) if side == "D" else rng.betavariate(6, 1.5)
        pacs[side].append((cmte, p))
        truth.committees[cmte] = p
        w.add("cm", [cmte, f"SIM ISSUES FUND {i + 1}", "", "", "", "DC", "DC", "20001", "U", "N", "", "Q", "", "", ""])
    for side in ("D", "R"):
        for cmte, p in pacs[side]:
            for _ in range(_count(rng, 0.7, 0.8, 40)):
                give_to_campaign(cmte, "R" if rng.random() < p else "D", _lognormal(rng, 2000, 0.6))
            if rng.random() < 0.15:
                for _ in range(rng.randint(1, 2)):
                    child = _pick_pac(rng, p, [x for x in pacs["D"] if x[0] != cmte], [x for x in pacs["R"] if x[0] != cmte])
                    w.transaction("oth", cmte, "24K", "PAC", f"SIM {child}", _lognormal(rng, 2000, 0.6), other=child)

    donor_no = 0
    for e, employer in enumerate(_names(rng, config.employers)):
        theta = rng.betavariate(1.2, 1.2)
        truth.employers[employer] = theta
        own: str | None = None
        if rng.random() < config.own_pac_share:
            own = f"C4{e + 1:07d}"
            truth.own_pac_employers.add(employer)
            p_own = rng.betavariate(4, 2.5)
            truth.committees[own] = p_own
            named = rng.random() < 0.6
            w.add("cm", [own, f"{employer} POLITICAL ACTION COMMITTEE", "", "", "", "DC", "DC", "20001", "B", "Q", "", "M", "C", f"{employer} INC" if named else "", ""])
            for _ in range(_count(rng, 0.7, 0.8, 40)):
                give_to_campaign(own, "R" if rng.random() < p_own else "D", _lognormal(rng, 2000, 0.6))
        for _ in range(_count(rng, 1.2, 1.0, 400)):
            donor_no += 1
            donor, zip_code = f"DONOR{donor_no}, SIM", f"{90000 + donor_no % 9000:05d}"
            x = rng.betavariate(max(2 * theta, 1e-3), max(2 * (1 - theta), 1e-3))

            def indiv(recipient: str, amount: int, tp: str = "15", other: str = "", day: str | None = None) -> None:
                w.transaction("indiv", recipient, tp, "IND", donor, amount, other=other, employer=employer, day=day, zip_code=zip_code)  # noqa: B023

            for _ in range(rng.randint(1, 4)):
                side = "R" if rng.random() < x else "D"
                amount, route, day = _lognormal(rng, 150, 0.8), rng.random(), w.day()
                if route < 0.7:
                    cmte, _cand = rng.choice(campaigns[side])
                    if rng.random() < 0.3:
                        conduit = ACTBLUE if side == "D" else WINRED
                        indiv(cmte, amount, "15E", other=conduit, day=day)
                        w.transaction("oth", conduit, "24T", "CCM", f"SIM {cmte}", amount, other=cmte, day=day)
                        continue
                    recipient = cmte
                elif route < 0.8:
                    recipient = parties[side]
                elif route < 0.9:
                    recipient, members = rng.choice(jfcs[side])
                    share = round(amount * 0.6)
                    for member, part in zip(members, (share, amount - share), strict=True):
                        w.transaction("oth", member, "15J", "IND", donor, part, other=recipient, employer=employer, memo="X", day=day, zip_code=zip_code)
                else:
                    recipient = _pick_pac(rng, x, pacs["D"], pacs["R"])
                indiv(recipient, amount, day=day)
                if rng.random() < 0.03:
                    indiv(recipient, amount, "22Y")
            if own is not None and rng.random() < 0.5:
                for month in range(6):
                    indiv(own, 100, day=f"{month + 1:02d}152019")
    out.mkdir(parents=True, exist_ok=True)
    for file_type, name in FILE_NAMES.items():
        (out / name).write_text("".join(line + "\n" for line in w.rows[file_type]), encoding="ascii")
    return truth


def _metrics(pairs: list[tuple[float, float, float, float]]) -> dict[str, Any]:
    """(truth, score, low, high) -> n, coverage, MAE, mean width."""
    if not pairs:
        return {"n": 0}
    return {
        "n": len(pairs),
        "coverage": round(sum(low <= t <= high for t, _, low, high in pairs) / len(pairs), 4),
        "mae": round(statistics.fmean(abs(s - t) for t, s, _, _ in pairs), 4),
        "width": round(statistics.fmean(high - low for _, _, low, high in pairs), 4),
    }


def calibrate(url: str, work: Path, config: SimConfig) -> dict[str, Any]:
    """Simulate, stage, normalize and score through the real steps; coverage per method and type."""
    import psycopg

    from fecflow.catalog import FILES
    from fecflow.db import ops
    from fecflow.normalize.employers import canonicalize_employer
    from fecflow.normalize.step import normalize_cycle
    from fecflow.scores import METHOD_VERSIONS, compute_scores
    from fecflow.staging.load import stage_source_file
    from fecflow.staging.payload import register_local_file

    truth = write_bulk_files(work, config)
    employers: dict[str, float] = {}
    own_pac: set[str] = set()
    for raw, theta in truth.employers.items():
        name = canonicalize_employer(raw).canonical_name
        assert name is not None and name not in employers, raw
        employers[name] = theta
        if raw in truth.own_pac_employers:
            own_pac.add(name)
    report: dict[str, Any] = {"config": asdict(config), "as_of": AS_OF.isoformat(), "methods": {}}
    with psycopg.connect(url) as conn:
        run_id = ops.start_run(conn, "calibrate", asdict(config))
        for file_type, name in FILE_NAMES.items():
            source_file_id = register_local_file(conn, work / name, file_type=file_type, cycle=CYCLE, run_id=run_id)
            stage_source_file(url, run_id=run_id, source_file_id=source_file_id, spec=FILES[file_type], path=work / name)
        normalize_cycle(conn, run_id=run_id, cycle=CYCLE)
        for method in METHOD_VERSIONS:
            compute_scores(conn, run_id=run_id, as_of=AS_OF, method_version=method)
            rows = conn.execute(
                "SELECT s.entity_type, coalesce(e.canonical_name, m.committee_id), s.score, s.ci_low, s.ci_high "
                "FROM scores.leaning_score s LEFT JOIN core.employer e USING (employer_key) "
                "LEFT JOIN core.committee m USING (committee_key) WHERE s.method_version = %s AND s.valid_to IS NULL "
                "AND s.entity_type IN ('employer', 'committee')",
                (method,),
            ).fetchall()
            pairs: dict[str, list[tuple[float, float, float, float]]] = {"employer": [], "committee": []}
            known = {"employer": employers, "committee": truth.committees}
            unscored = {"employer": 0, "committee": 0}
            scored_keys: list[str] = []
            for entity_type, key, score, low, high in rows:
                t = known[entity_type].get(key)
                if t is None:
                    continue
                if score is None:
                    unscored[entity_type] += 1
                    continue
                pairs[entity_type].append((t, float(score), float(low), float(high)))
                if entity_type == "employer":
                    scored_keys.append(key)
            report["methods"][method] = {
                kind: _metrics(p) | {"unscored": unscored[kind], "truths": len(known[kind])} for kind, p in pairs.items()
            }
            # The subset the own-PAC rule is about: employers whose people also give to their own PAC.
            report["methods"][method]["employer_with_own_pac"] = _metrics(
                [pair for pair, key in zip(pairs["employer"], scored_keys, strict=True) if key in own_pac]
            )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Simulated FEC data with known leans: interval calibration.")
    defaults = SimConfig()
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--employers", type=int, default=defaults.employers)
    parser.add_argument("--pacs", type=int, default=defaults.pacs)
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "calibration.json")
    args = parser.parse_args(argv)
    config = SimConfig(seed=args.seed, employers=args.employers, pacs=args.pacs)

    from fecflow.db import migrate
    from fecflow.db.embedded import EmbeddedServer

    root = Path(tempfile.mkdtemp(prefix="fecflow-sim-pg-"))
    server = EmbeddedServer(root, fast_unsafe=True)
    try:
        url = server.start().url()
        assert url is not None
        migrate.upgrade(url)
        report = calibrate(url, root / "files", config)
    finally:
        server.stop()
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["methods"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
