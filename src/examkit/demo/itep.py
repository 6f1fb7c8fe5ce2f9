"""Demo section: iTEP registration checks, test IDs, bulk issuance, and the results webhook."""

from __future__ import annotations

import io

from examkit.core.errors import SignatureMismatchError, ValidationError
from examkit.demo import DemoOutput
from examkit.itep import (
    AssignedTo,
    Candidate,
    ItepWebhookVerifier,
    Registration,
    RegistrationError,
    TokenHeaderAuth,
)
from examkit.testing.itep import FakeItep, build_results_webhook

__all__: list[str] = []  # run by examkit.demo.run; the demo has no public face of its own


def run(out: DemoOutput) -> None:
    """Validate a registration, issue test IDs from the fake, bulk-issue, and parse a webhook."""
    out.section("iTEP: registration, test IDs, bulk issuance, results webhook")

    vendor_example = {"Birthday": "1955-07-08", "Field_Of_Study": "Biology", "Gender": "female"}
    try:
        Registration.from_mapping(vendor_example)
    except RegistrationError as exc:
        problems = exc.problems
    else:
        problems = ()
    out.expect(len(problems) == 2, "the vendor's own example values are caught before sending")
    out.detail("\n".join(str(p) for p in problems))
    registration = Registration(first_name="Mary", last_name="Poppins", birthday="7/8/1955")
    out.step(f"a valid registration is sent as {registration.to_json()}")

    fake = FakeItep(
        api_key="demo-itep-api-key",
        signature_header="X-Itep-Signature",
        inventory={"Academic-Plus": [f"DEMO{n:03d}AP" for n in range(1, 7)]},
    )
    client = fake.client()
    result = client.issue_test_id(
        product_code="GTX-Academic-Plus",
        track="RC",
        assigned_to=AssignedTo(name="Mary Poppins", email="mary@example.com", candidate_id=42),
        registration=registration,
    )
    out.expect(result.test_id == "DEMO001AP", f"GTX-Academic-Plus returned test ID {result.test_id}")
    out.detail(f"signed body: {fake.requests[-1].body.decode()}")
    try:
        client.issue_test_id(product_code="STX-Academic-Plus", email="mary@example.com")
    except ValidationError as exc:
        out.step("an STX- code given to issue_test_id() is refused before sending")
        out.detail(str(exc))
    else:
        out.expect(False, "an STX- code given to issue_test_id() is refused")
    try:
        Registration.from_mapping({"DOB_Month": "13"})
    except RegistrationError as exc:
        out.step(f"field {exc.field}: {exc.reason}")

    fake.fail_for("bob@example.com", status=503)
    cohort = [
        Candidate(email="ann@example.com", name="Ann", candidate_id="c1"),
        Candidate(email="bob@example.com", name="Bob", candidate_id="c2"),
        Candidate(email="cy@example.com", name="Cy", candidate_id="c3"),
    ]
    report = client.issue_bulk(cohort, product_code="STX-Academic-Plus", max_workers=2)
    out.expect(
        len(report.issued) == 2 and len(report.failed) == 1 and len(fake.requests) == 4,
        f"bulk: {report.summary()}, each candidate attempted once",
    )
    written = io.StringIO()
    report.write_csv(written)
    out.detail(written.getvalue().strip())
    out.detail(f"e-mails the fake would have sent: {[e.to for e in fake.emails]}")

    verifier = ItepWebhookVerifier(auth=TokenHeaderAuth(header="X-Itep-Token", token="demo-token"))  # noqa: S106
    exam = verifier.verify(build_results_webhook(token=("X-Itep-Token", "demo-token")))
    out.expect(
        exam.test_id == "3279B035APR" and exam.is_complete,
        f"results webhook: {exam.test_id} overall {exam.overall_level} ({exam.overall_cefr})",
    )
    out.detail(", ".join(f"{name} {s.level}/{s.cefr}" for name, s in exam.sections.items()))
    try:
        verifier.verify(build_results_webhook(token=("X-Itep-Token", "wrong-token")))
    except SignatureMismatchError as exc:
        out.step("a webhook with the wrong token is refused before its body is read")
        out.detail(f"{type(exc).__name__}: {exc}")
    else:
        out.expect(False, "a webhook with the wrong token is refused")
    client.close()
