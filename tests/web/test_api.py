"""Every explorer endpoint, HTML, JSON and CSV, on the demo data through a real `fecflow serve`;
hostile inputs answer 4xx with a clear message, never 500 and never a traceback."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest

from fecflow.scores.method import METHOD_DEFAULT
from support.cli import run_fecflow

DEMO_EMPLOYER = "MICROSOFT"

pytestmark = pytest.mark.web

HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options")


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_home_json_csv_and_page(client: httpx.Client) -> None:
    data = client.get("/api/home").json()
    fresh = data["freshness"]
    assert fresh["method_version"] == METHOD_DEFAULT and fresh["as_of"] == "2019-03-31"
    assert fresh["last_run"]["status"] == "succeeded" and fresh["newest_transaction_date"]
    assert sum(b["employer"] for b in data["distribution"]) > 100 and len(data["distribution"]) == 20
    assert data["most_evidence"]
    assert _csv(client.get("/api/home?format=csv"))[0]["entity_type"]
    assert len(_csv(client.get("/api/home?format=csv&table=distribution"))) == 20
    page = client.get("/")
    assert page.status_code == 200 and "<svg" in page.text and "Distribution as a table" in page.text
    assert all(h in page.headers for h in HEADERS)
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


def test_search_prefix_fuzzy_id_and_pages(client: httpx.Client) -> None:
    found = client.get("/api/search", params={"q": "microsof"}).json()["results"]
    assert any(r["kind"] == "employer" and r["entity_id"] == DEMO_EMPLOYER for r in found)
    fuzzy = client.get("/api/search", params={"q": "MICROSFT", "kind": "employer"}).json()["results"]
    assert DEMO_EMPLOYER in [r["entity_id"] for r in fuzzy]
    by_id = client.get("/api/search", params={"q": "c00401224"}).json()["results"]
    assert by_id[0]["entity_id"] == "C00401224" and by_id[0]["rank"] == 3
    first = client.get("/api/search", params={"q": "A", "page": 1}).json()
    second = client.get("/api/search", params={"q": "A", "page": 2}).json()
    assert first["has_next"] and {r["entity_id"] for r in first["results"]}.isdisjoint(
        r["entity_id"] for r in second["results"]
    )
    rows = _csv(client.get("/api/search", params={"q": "microsoft", "format": "csv"}))
    assert rows[0]["kind"] and rows[0]["entity_id"]
    page = client.get("/search", params={"q": "microsoft"})
    assert page.status_code == 200 and f"/entity/employer/{DEMO_EMPLOYER}" in page.text


def test_employer_equals_explain_and_export(
    client: httpx.Client, explained: dict[str, str], demo_db: str, web_home: Path
) -> None:
    data = client.get(f"/api/entity/employer/{DEMO_EMPLOYER}").json()
    s = data["explained"]["summary"]
    assert (s["score"], s["ci_low"], s["ci_high"]) == (
        explained["score"],
        explained["ci_low"],
        explained["ci_high"],
    )
    assert [f"${float(s[k]):,.2f}" for k in ("dem_amount", "rep_amount", "other_amount")] == [
        explained["dem"],
        explained["rep"],
        explained["other"],
    ]
    out = web_home / "export.csv"
    exported = run_fecflow(
        web_home,
        "scores",
        "export",
        "--as-of",
        "2019-03-31",
        "-o",
        str(out),
        "--method",
        METHOD_DEFAULT,
        env={"FECFLOW_DATABASE_URL": demo_db},
    )
    assert exported.returncode == 0, exported.stderr
    row = next(
        r
        for r in csv.DictReader(out.open())
        if r["entity_type"] == "employer" and r["entity_id"] == DEMO_EMPLOYER
    )
    for key in (
        "score",
        "ci_low",
        "ci_high",
        "dem_amount",
        "rep_amount",
        "other_amount",
        "n_donors",
        "direct_amount",
    ):
        assert str(s[key]) == row[key], key
    assert data["explained"]["own_pac"]["committee_id"]  # the v2 component: its own PAC, apart
    assert len(data["trend"]) == 3 and [t["as_of"] for t in data["trend"]][-1] == "2019-03-31"
    assert data["history"]
    summary = _csv(client.get(f"/api/entity/employer/{DEMO_EMPLOYER}?format=csv"))
    assert summary[0]["score"] == explained["score"]
    for table in ("recipients", "flows", "trend", "history", "strings"):
        client.get(
            f"/api/entity/employer/{DEMO_EMPLOYER}", params={"format": "csv", "table": table}
        ).raise_for_status()
    page = client.get(f"/entity/employer/{DEMO_EMPLOYER}")
    assert page.status_code == 200
    assert f'<span class="big" id="score">{explained["score"]}</span>' in page.text
    assert explained["dem"] in page.text and "Open the trend chart" in page.text
    assert s["preliminary_amount"] is None and '<td id="preliminary">not included</td>' in page.text
    chart = client.get(f"/chart/trend/employer/{DEMO_EMPLOYER}.svg")
    assert chart.headers["content-type"].startswith("image/svg+xml") and chart.text.count("<circle") == 3


def test_industry_committee_candidate_pages(client: httpx.Client) -> None:
    top = client.get("/api/home").json()["most_evidence"]
    industry = next(r for r in top if r["entity_type"] == "industry")
    moved = client.get(f"/industry/{industry['entity_id']}", follow_redirects=False)
    assert moved.status_code == 307
    data = client.get(f"/api/entity/industry/{industry['entity_id']}").json()
    scores = [float(e["score"]) for e in data["employers"]]
    assert scores and scores == sorted(scores, reverse=True)
    assert _csv(client.get(f"/api/entity/industry/{industry['entity_id']}?format=csv&table=employers"))
    assert client.get(f"/industry/{industry['entity_id']}", follow_redirects=True).status_code == 200
    committee = client.get("/api/entity/committee/C00227546").json()  # MICROSOFT's PAC: its giving
    assert committee["explained"]["recipients"]
    assert client.get("/committee/C00227546", follow_redirects=True).status_code == 200
    candidate = client.get("/api/search", params={"q": "H", "kind": "candidate"}).json()["results"][0]
    page = client.get(f"/entity/candidate/{candidate['entity_id']}")
    assert page.status_code == 200 and "Trend across as-of dates" in page.text


def test_runs_json_csv_and_page(client: httpx.Client) -> None:
    data = client.get("/api/runs").json()
    assert [r["command"] for r in data["runs"]][-1] == "backfill"
    assert data["validations"] and {"name", "status", "message"} <= set(data["validations"][0])
    assert _csv(client.get("/api/runs?format=csv"))[0]["rows_rejected"] == "0"
    assert _csv(client.get("/api/runs?format=csv&table=validations"))
    assert "rows rejected" in client.get("/runs").text


def test_openapi_lists_the_api(client: httpx.Client) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/home", "/api/search", "/api/runs", "/api/entity/{entity_type}/{entity_id}"} <= set(paths)


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/api/search?q=" + "x" * 10_000, 400, "at most 200"),
        ("/api/search?q=%00abc", 400, "control characters"),
        ("/api/search?q=%FF%FE", 400, "UTF-8"),
        ("/api/search?q=a&page=-1", 400, "page"),
        ("/api/search?q=a&page=0", 400, "page"),
        ("/api/search?q=a&page=99999999999999999999999", 400, "page"),
        ("/api/search?q=a&page=abc", 400, "page"),
        ("/api/search?q=a&kind=robot", 400, "Unknown kind"),
        ("/api/search", 400, "q"),
        ("/api/search?q=a&format=xml", 400, "format"),
        ("/api/home?format=csv&table=secrets", 400, "Unknown table"),
        ("/api/home?method=lean-1999", 400, "Unknown method"),
        ("/api/entity/employer/NO%20SUCH%20EMPLOYER", 404, "No employer"),
        ("/api/entity/committee/C99999999", 404, "No committee"),
        ("/api/entity/wizard/X", 404, "Unknown entity type"),
        ("/api/entity/employer/%FF", 400, "UTF-8"),
        ("/api/entity/employer/" + "A" * 5000, 400, "at most 200"),
        ("/entity/employer/RETIRED", 404, "generic"),
        ("/entity/candidate/%27%3B%20DROP%20TABLE%20x%3B--", 404, "No candidate"),
        ("/nowhere", 404, "No such page"),
        ("/chart/trend/employer/MICROSOFT.png", 404, "svg"),
    ],
)
def test_hostile_inputs_answer_4xx_with_a_message(
    client: httpx.Client, path: str, status: int, words: str
) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text[:300]
    assert words.lower() in response.text.lower()
    assert "Traceback" not in response.text and "psycopg" not in response.text
    assert "content-security-policy" in response.headers


@pytest.mark.parametrize(
    "q", ["%", "_", "'", '"', "\\", "%_%", "' OR 1=1 --", "<script>alert(1)</script>", "🙂"]
)
def test_odd_search_text_is_literal(client: httpx.Client, q: str) -> None:
    response = client.get("/api/search", params={"q": q})
    assert response.status_code == 200, response.text
    assert all(
        q.upper() in (r["entity_id"] + " " + r["name"]).upper() or r["rank"] == 1
        for r in response.json()["results"]
    )
    page = client.get("/search", params={"q": q})
    assert page.status_code == 200 and "<script>alert" not in page.text  # autoescaped


def test_no_write_methods(client: httpx.Client) -> None:
    for method in ("POST", "PUT", "DELETE"):
        response = client.request(method, "/api/home")
        assert response.status_code == 405 and "read-only" in response.text


def test_each_request_is_a_read_only_rolled_back_transaction_with_a_timeout(demo_db: str) -> None:
    import psycopg

    from fecflow.web.database import ConnectionPool

    pool = ConnectionPool(demo_db, size=1, statement_timeout_ms=1234)
    try:
        with pool.transaction() as conn:
            assert conn.execute("SHOW statement_timeout").fetchone() == ("1234ms",)
            assert conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("CREATE TEMP TABLE x (a int)")
        with pool.transaction() as conn:
            with pytest.raises(psycopg.errors.QueryCanceled):
                conn.execute("SELECT pg_sleep(3)")
        with pool.transaction() as conn:  # the pool recovers after a cancelled statement
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        pool.close()


def test_industry_lines_read_only_equal_a_full_recomputation(client: httpx.Client, demo_db: str) -> None:
    """Issue #17: an industry page's lines come from the slot's kept context in the read-only request;
    they equal explain's recomputation from core in temp tables."""
    import psycopg

    from fecflow.scores.explain import explain_entity
    from fecflow.web.views import ENTITY_TOP

    top = client.get("/api/home").json()["most_evidence"]
    industry = next(r for r in top if r["entity_type"] == "industry")["entity_id"]
    explained = client.get(f"/api/entity/industry/{industry}").json()["explained"]
    assert explained["lines_kept"] and explained["recipients"]
    with psycopg.connect(demo_db) as conn:
        conn.execute("DELETE FROM scores.context_slot")  # rolled back below: explain recomputes
        again = explain_entity(conn, "industry", industry, top=ENTITY_TOP)
        conn.rollback()
    assert [(r["recipient_id"], r["side"], r["amount"], r["n_donors"]) for r in explained["recipients"]] == [
        (r.recipient_id, r.side, str(r.amount), r.n_donors) for r in again.recipients
    ]
    assert [(f["committee_id"], f["partisan_amount"]) for f in explained["flows"]] == [
        (f.committee_id, str(f.partisan_amount)) for f in again.flows
    ]


def test_a_committee_without_a_score_says_which_side_money_to_it_counts_on(client: httpx.Client) -> None:
    """The DCCC gives nothing in the demo window, so it has no score; a reader who follows a recipient
    link to it learns that money to it counts as D, and why."""
    data = client.get("/api/entity/committee/C00000935").json()
    assert data["explained"] is None and "no lean-2026.2 score" in data["no_score"]
    side = data["recipient_side"]
    assert (side["alignment"], side["basis"], side["as_of"]) == ("D", "party", "2019-03-31")
    page = client.get("/entity/committee/C00000935")
    assert "counts as <strong>D</strong> (why: party)" in page.text
