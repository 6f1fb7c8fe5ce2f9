"""Issue iTEP test IDs for a CSV of candidates and look at the results: a notebook-style script.

Open it in Jupyter (with jupytext) or VS Code, which run the ``# %%`` cells one by one, or run it as a
plain script. It works offline against examkit's in-process fake of iTEP; for real calls replace the
fake's client with ``ItepClient.from_env()`` (EXAMKIT_ITEP_API_KEY, EXAMKIT_ITEP_SIGNATURE_HEADER).
"""

# %% Set up: a fake iTEP with test IDs in stock, and a client wired to it
from __future__ import annotations

import html
from pathlib import Path

from examkit.itep import ItepWebhookVerifier, TokenHeaderAuth, read_candidates_csv
from examkit.itep.bulk import BulkReport
from examkit.testing.itep import FakeItep, build_results_webhook

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path("examples")
fake = FakeItep(
    api_key="notebook-api-key",
    signature_header="X-Itep-Signature",
    inventory={"Academic-Plus": [f"NB{n:04d}AP" for n in range(1, 100)]},
)
client = fake.client()

# %% Read the candidates (every row is kept; problems are reported per candidate)
candidates = read_candidates_csv(HERE / "itep_candidates.csv")
print(f"{len(candidates)} candidates")

# %% Issue one test ID per candidate (never retried; a progress bar in a notebook with tqdm)
report = client.issue_bulk(candidates, product_code="GTX-Academic-Plus", max_workers=4)
print(report.summary())


# %% Show the outcomes as a table
COLUMNS = ("email", "status", "test_id", "error_field", "error")


def outcome_rows(report: BulkReport) -> list[tuple[str, ...]]:
    """One row per candidate, in input order."""
    return [
        (o.candidate.email or "", o.status.value, o.test_id or "", o.error_field, o.error_message[:60])
        for o in report
    ]


def show(report: BulkReport) -> None:
    """Display an HTML table in a notebook, a text table anywhere else."""
    rows = outcome_rows(report)
    try:
        from IPython import get_ipython  # noqa: PLC0415 - optional: only in a notebook
        from IPython.display import HTML, display  # noqa: PLC0415
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        head = "".join(f"<th>{c}</th>" for c in COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in rows)
        display(HTML(f"<table><tr>{head}</tr>{body}</table>"))
        return
    widths = [max(len(r[i]) for r in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    for row in [COLUMNS, tuple("-" * w for w in widths), *rows]:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


show(report)

# %% Keep the outcomes next to the original columns
report.write_csv("itep_outcomes.csv")
print("outcomes written to itep_outcomes.csv")

# %% Later, a results webhook arrives: the typed result shows as a table of sections in a notebook
verifier = ItepWebhookVerifier(auth=TokenHeaderAuth(header="X-Itep-Token", token="notebook-token"))
result = verifier.verify(build_results_webhook(token=("X-Itep-Token", "notebook-token")))
result  # noqa: B018 - the notebook displays the last expression (ExamResult._repr_html_)
print(result.test_id, {name: str(section.level) for name, section in result.sections.items()})
