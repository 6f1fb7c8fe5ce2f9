"""An Integrity Advocate page shown in a real Jupyter kernel: what the notebook displays is the escaped table.

The notebook is built here and run with nbclient on an ipykernel kernel, against the in-process fake;
the displayed ``text/html`` output is parsed and checked, and a hostile name must arrive as text.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integrity_advocate.test_notebook import HOSTILE, tables

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

SETUP = f"""
from examkit.testing.integrity_advocate import FakeIntegrityAdvocate, make_participant, make_session
fake = FakeIntegrityAdvocate()
fake.add_participants([
    make_participant("p-1", "c-1", status="Valid", modified=1700000000),
    make_participant(
        "p-2", "c-1", first_name={HOSTILE!r}, status="Invalid (Rules)", modified=1700000100,
        sessions=[make_session("a-1", session_id="s-1", Flags=[{{"Id": "f-1"}}])],
    ),
])
client = fake.client()
"""
CELLS = (
    SETUP,
    "page = next(client.iter_participant_pages('c-1'))\npage",
    "import sys\nprint('pandas' in sys.modules)",
    "client.get_participant('p-2', 'c-1')",
)


@pytest.fixture(scope="module")
def executed() -> Any:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    return [cell.outputs for cell in notebook.cells]


def test_the_page_displays_as_an_escaped_table(executed: Any) -> None:
    (shown,) = [o for o in executed[1] if o.get("output_type") == "execute_result"]
    html = shown["data"]["text/html"]
    assert "<script" not in html
    (table,) = tables(html).tables
    assert table["caption"] == "Integrity Advocate: 2 participants"
    header, *rows = table["rows"]
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_id) == {"p-1", "p-2"}
    assert by_id["p-2"]["first_name"] == HOSTILE
    # The vendor's list rows carry no sessions (only the single-participant lookup does).
    assert (by_id["p-2"]["status"], by_id["p-2"]["session_count"]) == ("Invalid (Rules)", "0")
    assert by_id["p-1"]["modified"] == "2023-11-14T22:13:20+00:00"  # 1700000000 seconds after the epoch


def test_showing_a_page_does_not_import_pandas(executed: Any) -> None:
    assert [o["text"] for o in executed[2] if o.get("name") == "stdout"] == ["False\n"]


def test_a_participant_displays_with_its_sessions_and_flags(executed: Any) -> None:
    (shown,) = [o for o in executed[3] if o.get("output_type") == "execute_result"]
    html = shown["data"]["text/html"]
    assert "<script" not in html
    fields, sessions, flags = tables(html).tables
    assert fields["caption"] == "Integrity Advocate participant p-2: Invalid (Rules)"
    assert {row[0]: row[1] for row in fields["rows"][1:]}["first_name"] == HOSTILE
    assert [row[:2] for row in sessions["rows"][1:]] == [["s-1", "a-1"]]
    assert [row[:2] for row in flags["rows"][1:]] == [["s-1", "f-1"]]
