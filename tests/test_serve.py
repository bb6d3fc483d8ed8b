"""`cyberlog serve`: the real server (a `python -m ingest serve` process) on a free loopback
port, over a copy of the fixture store, asked over real HTTP."""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import ROOT, copy_store, run

from ingest.reports import catalog, export
from ingest.web import forms
from ingest.web.common import CSP

TOKEN = "s3cret-token-for-tests"
ROW_CAP = 500


@dataclass
class Got:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def get(url: str, headers: dict[str, str] | None = None) -> Got:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Got(response.status, response.headers, response.read())
    except urllib.error.HTTPError as exc:
        return Got(exc.code, exc.headers, exc.read())


def raw_get(base: str, path: str) -> Got:
    """A GET of `path` exactly as written: no client tidies its dots or escapes."""
    parsed = urllib.parse.urlsplit(base)
    con = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=30)
    try:
        con.putrequest("GET", path, skip_accept_encoding=True)
        con.endheaders()
        response = con.getresponse()
        return Got(response.status, response.msg, response.read())
    finally:
        con.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(db: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`python -m ingest serve` on a free port until the module's tests are done; its stderr in a file."""
    port = free_port()
    command = [sys.executable, "-m", "ingest", "serve", "--db", str(db), "--port", str(port), *args]
    environment = {k: v for k, v in os.environ.items() if k != "CYBERLOG_TOKEN"} | (env or {})
    log = db.with_name(f"serve-{port}.log")
    with log.open("w") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stderr=stderr, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def store(shared_fixture_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_store(shared_fixture_store, tmp_path_factory.mktemp("serve") / "store.duckdb")


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[str]:
    yield from start(store, "--timeout", "1", "--row-cap", str(ROW_CAP))


@pytest.fixture(scope="module")
def guarded(store: Path) -> Iterator[str]:
    yield from start(store, env={"CYBERLOG_TOKEN": TOKEN})


class Form(HTMLParser):
    """The controls of a page's first form: name -> (tag, type, value, options, selected)."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: dict[str, dict[str, object]] = {}
        self._select: str | None = None
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done:
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("type") != "hidden":
            self.controls[a["name"]] = {"tag": "input", "type": a.get("type"), "value": a.get("value", "")}
            self.controls[a["name"]]["checked"] = "checked" in a
        elif tag == "select":
            self._select = a["name"]
            self.controls[a["name"]] = {"tag": "select", "options": [], "selected": None}
        elif tag == "option" and self._select:
            found = self.controls[self._select]
            found["options"].append(a["value"])  # type: ignore[attr-defined]
            if "selected" in a:
                found["selected"] = a["value"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def form_of(html: str) -> dict[str, dict[str, object]]:
    parser = Form()
    parser.feed(html)
    return parser.controls


def count(html: str) -> str:
    start = html.index('<span class="count">') + len('<span class="count">')
    return html[start : html.index("</span>", start)]


def cli_csv(store: Path, name: str, params: dict[str, str]) -> str:
    pairs = [arg for key, value in params.items() for arg in ("-p", f"{key}={value}")]
    result = run("report", "run", name, *pairs, "--format", "csv", "--db", store)
    assert result.code == 0, result.err
    return result.out


# -- the reports -------------------------------------------------------------------------


def test_the_index_lists_every_report(server: str) -> None:
    page = get(server + "/")
    assert page.status == 200
    for report in catalog.all_reports():
        assert f'href="/reports/{report.name}"' in page.text
    for path in ("/sql", "/sources", "/runs", "/rejects", "/clusters"):
        assert f'href="{path}"' in page.text


@pytest.mark.parametrize("report", catalog.all_reports(), ids=lambda r: r.name)
def test_a_reports_form_has_a_field_per_param_of_its_type_and_default(server: str, report: catalog.Report) -> None:
    page = get(f"{server}/reports/{report.name}")
    assert page.status == 200, page.text
    controls = form_of(page.text)
    assert set(controls) == {p.name for p in report.params}
    for param in report.params:
        control = controls[param.name]
        default = "" if param.default is None else export.text(param.default)
        options = forms.choices(param)
        if param.type == "BOOLEAN":
            assert (control["type"], control["checked"]) == ("checkbox", param.default is True)
        elif options:
            assert control["tag"] == "select"
            assert control["options"] == ([] if param.default is not None else [""]) + list(options)
            assert control["selected"] == default or (default == "" and control["selected"] == "")
        else:
            wanted = {"DATE": "date", "INTEGER": "number", "DOUBLE": "number"}.get(param.type, "text")
            assert (control["type"], control["value"]) == (wanted, default), param.name
        assert param.help in page.text.replace("&#x27;", "'").replace("&quot;", '"')


def test_params_change_the_rows_and_bad_ones_are_a_400(server: str) -> None:
    every = get(f"{server}/reports/timeline")
    incidents = get(f"{server}/reports/timeline?kind=incident&country=&since=&until=")
    assert count(every.text) == "rows 1\u201343 of 43"
    assert count(incidents.text) == "rows 1\u20139 of 9"
    bad = get(f"{server}/reports/timeline?since=not-a-date")
    assert bad.status == 400
    assert "param since: &#x27;not-a-date&#x27; is not a valid DATE" in bad.text
    assert 'name="since"' in bad.text  # the form again, to fix it
    assert get(f"{server}/reports/timeline?colour=red").status == 400


CASES = [
    ("timeline", {"kind": "incident"}),
    ("timeline", {}),
    ("incidents_near_events", {"since": "2022-02-15", "until": "2022-02-15", "window_hours": "24"}),
    ("attribution_lag", {"events": "true"}),
    ("lead_lag", {"max_lag": "7"}),  # a compute report: its rows from Python
    ("targets_by_period", {"period": "week"}),
]


@pytest.mark.parametrize(("name", "params"), CASES)
def test_the_csv_download_is_what_report_run_writes(
    server: str, store: Path, name: str, params: dict[str, str]
) -> None:
    got = get(f"{server}/reports/{name}.csv?{urllib.parse.urlencode(params)}")
    assert got.status == 200
    assert got.headers["Content-Type"].startswith("text/csv")
    assert got.text == cli_csv(store, name, params)


def test_json_and_parquet_downloads_parse(server: str, store: Path) -> None:
    query = "kind=incident"
    rows = list(csv.DictReader(io.StringIO(cli_csv(store, "timeline", {"kind": "incident"}))))
    as_json = json.loads(get(f"{server}/reports/timeline.json?{query}").body)
    assert [r["title"] for r in as_json] == [r["title"] for r in rows]
    parquet = get(f"{server}/reports/timeline.parquet?{query}")
    assert parquet.status == 200 and parquet.body.startswith(b"PAR1")
    table = pq.read_table(io.BytesIO(parquet.body))
    assert table.column_names == list(rows[0]) and table.num_rows == len(rows)


def test_the_report_page_links_downloads_and_its_picture(server: str) -> None:
    page = get(f"{server}/reports/timeline?kind=incident&page=1").text
    for fmt in ("csv", "json", "parquet"):
        assert f'href="/reports/timeline.{fmt}?kind=incident"' in page
    assert 'href="/reports/timeline/page?kind=incident"' in page
    picture = get(f"{server}/reports/timeline/page?kind=incident")
    assert picture.status == 200 and picture.headers["Content-Security-Policy"] == CSP
    assert '<div id="picture"' in picture.text and "params: kind=incident" in picture.text


# -- ad-hoc SQL --------------------------------------------------------------------------


def sql(server: str, statement: str, path: str = "/sql", **more: str) -> Got:
    return get(f"{server}{path}?{urllib.parse.urlencode({'sql': statement, **more})}")


def test_sql_gives_rows_a_page_at_a_time(server: str) -> None:
    statement = "SELECT n, 'row ' || n AS label FROM range(250) t(n) ORDER BY n"
    first, second, third = (sql(server, statement, page=str(n)).text for n in (1, 2, 3))
    assert count(first) == "rows 1\u2013100 of 250" and "<td>row 99</td>" in first and "row 100<" not in first
    assert count(second) == "rows 101\u2013200 of 250" and "<td>row 100</td>" in second
    assert count(third) == "rows 201\u2013250 of 250" and "<td>row 249</td>" in third
    assert 'rel="next"' in first and 'rel="prev"' in third and 'rel="next"' not in third
    assert count(sql(server, "SELECT count(*) AS n FROM v_incidents").text) == "rows 1\u20131 of 1"


def test_sql_downloads(server: str) -> None:
    statement = "SELECT n, '=1+1' AS formula FROM range(3) t(n)"
    assert sql(server, statement, "/sql.csv").text == "n,formula\n0,'=1+1\n1,'=1+1\n2,'=1+1\n"
    assert json.loads(sql(server, statement, "/sql.json").body)[2] == {"n": 2, "formula": "=1+1"}
    assert pq.read_table(io.BytesIO(sql(server, statement, "/sql.parquet").body)).num_rows == 3


def test_sql_caps_its_rows_and_says_so(server: str) -> None:
    page = sql(server, "SELECT * FROM range(100000)").text
    assert count(page) == f"rows 1\u2013100 of {ROW_CAP}"
    assert f"only the first {ROW_CAP} rows are kept" in page
    assert sql(server, "SELECT * FROM range(100000)", "/sql.csv").text.count("\n") == ROW_CAP + 1


@pytest.mark.parametrize(
    ("statement", "said"),
    [
        ("CREATE TABLE x AS SELECT 1", "not CREATE"),
        ("DELETE FROM incidents", "not DELETE"),
        ("COPY incidents TO '/tmp/cyberlog-serve-leak.csv'", "not COPY"),
        ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
        ("SELECT * FROM read_text('pyproject.toml')", "file system operations are disabled"),
        ("ATTACH '/tmp/cyberlog-serve.duckdb' AS other", "not ATTACH"),
        ("SET enable_external_access = true", "not SET"),
        ("SELECT 1; SELECT 2", "one statement at a time"),
        ("SELEC nothing", "Parser Error"),
        ("SELECT * FROM no_such_table", "no_such_table"),
    ],
)
def test_sql_refuses_writes_files_and_errors_with_a_400(server: str, statement: str, said: str) -> None:
    got = sql(server, statement)
    assert got.status == 400
    assert said in got.text.replace("&#x27;", "'")
    assert "root:x:" not in got.text
    assert sql(server, statement, "/sql.csv").status == 400
    assert not Path("/tmp/cyberlog-serve-leak.csv").exists()


def test_a_runaway_query_is_stopped_by_the_timeout(server: str) -> None:
    started = time.monotonic()
    got = sql(server, "SELECT count(*) FROM range(1000000000) a, range(1000000000) b")
    assert got.status == 400 and "stopped after 1 s" in got.text
    assert time.monotonic() - started < 15
    assert sql(server, "SELECT 42 AS answer").status == 200  # the server goes on


# -- the store's pages -------------------------------------------------------------------


def test_the_store_pages(server: str) -> None:
    sources = get(server + "/sources")
    assert sources.status == 200 and "<th>source</th>" in sources.text
    runs = get(server + "/runs")
    assert runs.status == 200 and "<td>nightly</td>" in runs.text
    assert get(server + "/rejects").status == 200
    assert get(server + "/rejects?source=gdelt").status == 200
    listing = get(server + "/clusters").text
    ids = [part.split('"')[0] for part in listing.split('href="/clusters/')[1:]]
    assert ids, "the fixture store has clusters of several records"
    shown = get(f"{server}/clusters/{ids[0]}")
    assert shown.status == 200 and "<h2>records</h2>" in shown.text and "<h2>decisions</h2>" in shown.text
    events = get(server + "/clusters?events=1").text
    event_ids = [part.split('"')[0] for part in events.split('href="/clusters/')[1:] if part.startswith("ecl_")]
    assert event_ids and get(f"{server}/clusters/{event_ids[0]}").status == 200
    assert get(server + "/clusters/clu_nothing").status == 404


# -- what no address reaches, and the headers ---------------------------------------------


def test_an_unknown_report_is_a_404(server: str) -> None:
    for path in ("/reports/nothing", "/reports/nothing.csv", "/reports/nothing/page", "/reports/timeline.sql"):
        assert get(server + path).status == 404, path


@pytest.mark.parametrize(
    "path",
    [
        "/reports/../../../etc/passwd",
        "/reports/..%2f..%2f..%2fetc%2fpasswd",
        "/reports/%2e%2e/%2e%2e/pyproject.toml",
        "/reports/..%2fsql%2freports%2ftimeline",
        "/reports/..%2f..%2fpyproject.toml.csv",
        "/reports/timeline/../../../pyproject.toml",
        "/../../etc/passwd",
        "/clusters/..%2f..%2fpyproject.toml",
        "/static/../pyproject.toml",
        "//etc/passwd",
    ],
)
def test_no_path_reaches_a_file(server: str, path: str) -> None:
    got = raw_get(server, path)
    assert got.status in (400, 404), path
    assert b"root:x:" not in got.body and b"[project]" not in got.body and b"SELECT" not in got.body


def test_every_html_response_has_the_csp(server: str) -> None:
    for path in ("/", "/reports/timeline", "/reports/timeline?since=x", "/reports/nothing", "/sql", "/sql?sql=x",
                 "/sources", "/runs", "/rejects", "/clusters", "/nowhere"):  # fmt: skip
        got = get(server + path)
        assert got.headers["Content-Type"].startswith("text/html"), path
        assert got.headers["Content-Security-Policy"] == CSP, path
        assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_another_host_name_is_refused(server: str) -> None:
    assert get(server + "/", {"Host": "attacker.example"}).status == 400  # DNS rebinding
    assert get(server + "/", {"Host": f"localhost:{server.rsplit(':', 1)[1]}"}).status == 200


# -- the token ---------------------------------------------------------------------------


def test_a_token_is_asked_of_every_request(guarded: str) -> None:
    for path in ("/", "/reports/timeline", "/reports/timeline.csv", "/sql?sql=SELECT+1", "/nowhere"):
        refused = get(guarded + path)
        assert refused.status == 401, path
        assert refused.headers["Content-Security-Policy"] == CSP
    assert get(guarded + "/", {"Authorization": "Bearer wrong"}).status == 401
    assert get(guarded + "/?token=wrong").status == 401
    assert get(guarded + "/", {"Authorization": f"Bearer {TOKEN}"}).status == 200
    assert get(guarded + "/reports/timeline.csv", {"Authorization": f"Bearer {TOKEN}"}).status == 200


def test_a_token_in_the_address_sets_a_cookie_that_keeps_links_working(guarded: str) -> None:
    opened = get(f"{guarded}/?token={TOKEN}")
    assert opened.status == 200
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    pair = cookie.split(";")[0]
    assert get(guarded + "/reports/timeline", {"Cookie": pair}).status == 200
    assert get(guarded + "/reports/timeline.json", {"Cookie": pair}).status == 200
    assert get(guarded + "/reports/timeline", {"Cookie": pair[:-2] + "00"}).status == 401
    assert TOKEN not in opened.text  # never written into a link


# -- starting it -------------------------------------------------------------------------


def test_serve_refuses_an_open_host_without_a_token(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CYBERLOG_TOKEN", raising=False)
    result = run("serve", "--host", "0.0.0.0", "--db", store)
    assert result.code == 2
    assert "refusing to serve on 0.0.0.0" in result.err and "--token" in result.err
    assert run("serve", "--host", "example.org", "--db", store).code == 2


def test_serve_says_when_there_is_no_store(tmp_path: Path) -> None:
    result = run("serve", "--db", tmp_path / "none.duckdb")
    assert result.code == 2
    assert "no store here yet" in result.err
    not_a_store = tmp_path / "notes.duckdb"
    not_a_store.write_text("not a database", "utf-8")
    assert run("serve", "--db", not_a_store).code == 2


# -- a nightly writing the store ---------------------------------------------------------


def test_a_busy_store_is_read_through_its_snapshot(loaded: Path) -> None:
    from ingest import snapshot
    from ingest.store import open_store

    with open_store(loaded, write=True) as con:
        snapshot.publish(con, loaded)
    server = start(loaded, env={"CYBERLOG_SNAPSHOT": "busy"})
    base = next(server)
    hold = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(120)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(loaded)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"  # a writer holds the lock
        page = get(base + "/reports/timeline")
        assert page.status == 200 and count(page.text) == "rows 1\u201343 of 43"
        assert get(base + "/sql?sql=SELECT+count(*)+FROM+v_incidents").status == 200
        snapshot.path_of(loaded).unlink()
        busy = get(base + "/reports/timeline")
        assert busy.status == 503 and "store is busy" in busy.text
        assert get(base + "/").status == 200  # the index needs no store
    finally:
        holder.kill()
        holder.wait()
        server.close()


def test_host_names_are_read_without_their_port() -> None:
    from ingest.web.auth import host_name

    assert host_name("[::1]:8765") == "::1"
    assert host_name("LOCALHOST:8765") == "localhost"
    assert host_name("127.0.0.1") == "127.0.0.1"


def test_serve_says_when_its_port_is_taken(store: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        command = [sys.executable, "-m", "ingest", "serve", "--db", str(store), "--port", port]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1 port {port}" in result.stderr
