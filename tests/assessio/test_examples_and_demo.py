"""The Assessio examples and demo section run offline and exit cleanly."""

from __future__ import annotations

import io
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from examkit.demo import DemoOutput
from examkit.demo.assessio import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["assessio_order_link.py", "assessio_webhook.py"])
def test_example_runs_as_script(name: str) -> None:
    done = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, check=True)
    assert done.stdout.strip()


def test_order_example_output(capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(EXAMPLES / "assessio_order_link.py"))
    assert module["main"]([]) == 0
    out = capsys.readouterr().out
    assert "link:   https://" in out
    assert '"assessmentType":"MAP"' in out


def test_webhook_example_answers() -> None:
    module = runpy.run_path(str(EXAMPLES / "assessio_webhook.py"))
    from examkit.testing.assessio import assessment_submitted_webhook

    ok = assessment_submitted_webhook(api_key="example-integrator-api-key", order_reference_id="r")
    status, text = module["handle"](ok)
    assert status == 200
    # The enum prints as the vendor's value; the second of the two configured keys matched.
    assert text.splitlines()[0] == "order r: MAP (api key 2 of 2 matched)"
    assert "MAP_SCORE EX = 10" in text
    bad = assessment_submitted_webhook(api_key="nope", order_reference_id="r")
    assert module["handle"](bad)[0] == 401


def test_webhook_example_logs_a_secret_free_diagnosis() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "assessio_webhook.py")], capture_output=True, text=True, check=True
    )
    assert "[FAIL] token does not match" in done.stderr
    assert "result: FAILED (SignatureMismatchError)" in done.stderr
    for key in ("example-old-api-key", "example-integrator-api-key"):
        assert key not in done.stderr


def test_demo_section() -> None:
    stream = io.StringIO()
    run(DemoOutput(stream))
    text = stream.getvalue()
    assert "FAIL" not in text
    assert "ordered a MAP link" in text
    assert "ASSESSMENT_SUBMITTED" in text
