"""pytest plugin for the integration tests under ASan+UBSan (tests/sanitize/run.sh).

The sanitizers write each report to a file in $CTR_SANITIZER_REPORTS (their log_path). A test
during which a report file appeared or changed fails with the report; any report file there at
the end fails the run (a report written by a process that outlived its test, such as a shim), and
the terminal summary lists them all.
"""

import os
from pathlib import Path

import pytest

REPORTS = Path(os.environ["CTR_SANITIZER_REPORTS"])


def _snapshot():
    found = {}
    for path in REPORTS.iterdir():
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        found[path] = (st.st_mtime_ns, st.st_size)
    return found


def _show(paths, limit=6000):
    text = []
    for path in sorted(paths):
        try:
            body = path.read_text(errors="replace")
        except OSError as e:
            body = f"(unreadable: {e.strerror})"
        if len(body) > limit:
            body = body[:limit] + "\n[... cut; the whole report is in the file]"
        text.append(f"--- {path}\n{body.rstrip()}")
    return "\n".join(text)


@pytest.fixture(autouse=True)
def no_sanitizer_reports():
    """Being a plugin's autouse fixture, this wraps conftest's own (the leak check), so reports
    from what those tear down count too."""
    before = _snapshot()
    yield
    new = [p for p, stamp in _snapshot().items() if before.get(p) != stamp]
    if new:
        pytest.fail("sanitizer report(s) while this test ran:\n" + _show(new), pytrace=False)


def pytest_report_header(config):
    return f"sanitizer reports: {REPORTS} (ASan+UBSan build, tests/sanitize/run.sh)"


def pytest_sessionfinish(session, exitstatus):
    if _snapshot() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    reports = _snapshot()
    if reports:
        terminalreporter.section("sanitizer reports", sep="=", red=True)
        terminalreporter.write_line(_show(reports, limit=2000))
        # Counted in the final line too ("..., 2 sanitizer reports in 90.00s").
        terminalreporter.stats.setdefault("sanitizer reports", []).extend(reports)
