"""The fake exam endpoint, the demo section and the examples."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

from examkit.core.clock import FixedClock
from examkit.demo import DemoOutput
from examkit.demo.testpress import run
from examkit.testing.testpress import FakeTestpress
from examkit.testpress import TestpressAttempts

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_fake_accepts_a_good_form_and_refuses_tampering_and_expiry() -> None:
    clock = FixedClock(1_700_000_000)
    fake = FakeTestpress(public_key="pub", secret="sec", clock=clock)
    form = TestpressAttempts(public_key="pub", secret="sec", clock=clock).create_attempt(
        exam_url=fake.exam_url,
        email="x+y@z.org",
        first_name="Jo Ñ/ø",
        institute_attempt_id="1",
        surl="https://me.example/done",
    )
    session = fake.session()
    ok = session.post(form.url, data=dict(form.fields), allow_redirects=False, timeout=5)
    assert ok.status_code == 302
    assert ok.headers["Location"].startswith("https://me.example/done?")
    tampered = dict(form.fields, first_name="Jo")
    assert session.post(form.url, data=tampered, allow_redirects=False, timeout=5).status_code == 403
    missing = {k: v for k, v in form.fields.items() if k != "hmac"}
    assert session.post(form.url, data=missing, allow_redirects=False, timeout=5).status_code == 400
    clock.advance(1801)
    assert session.post(form.url, data=dict(form.fields), allow_redirects=False, timeout=5).status_code == 403


def test_demo_section_runs() -> None:
    stream = io.StringIO()
    run(DemoOutput(stream))
    assert "FAIL" not in stream.getvalue()


def test_examples_run() -> None:
    for path in sorted(EXAMPLES.glob("testpress_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        module.main()
