"""Issue iTEP test IDs to every candidate in a CSV file and write each outcome back to CSV.

Offline by default: it runs against examkit's in-process fake of iTEP. With ``--live`` it calls iTEP
for real, reading EXAMKIT_ITEP_API_KEY and EXAMKIT_ITEP_SIGNATURE_HEADER from the environment.

    python examples/itep_issue_from_csv.py [candidates.csv] [outcomes.csv] [--live]

Each candidate is attempted exactly once (fulfillment calls are never retried); rows that fail keep
their place in the output with the reason, so you can fix them and run only those again.
"""

from __future__ import annotations

import sys
from pathlib import Path

from examkit.itep import ItepClient, read_candidates_csv
from examkit.testing.itep import FakeItep

HERE = Path(__file__).resolve().parent
PRODUCT_CODE = "GTX-Academic-Plus"


def main(argv: list[str]) -> int:
    live = "--live" in argv
    args = [a for a in argv if a != "--live"]
    source = Path(args[0]) if args else HERE / "itep_candidates.csv"
    target = Path(args[1]) if len(args) > 1 else Path("itep_outcomes.csv")

    candidates = read_candidates_csv(source)
    print(f"read {len(candidates)} candidates from {source.name}")

    if live:
        client = ItepClient.from_env()
    else:
        fake = FakeItep(
            api_key="offline-example-key",
            signature_header="X-Itep-Signature",
            inventory={"Academic-Plus": [f"EX{n:04d}AP" for n in range(1, 50)]},
        )
        fake.fail_for("jane.banks@example.com", status=503)  # show how a failure is reported
        client = fake.client()

    with client:
        report = client.issue_bulk(
            candidates,
            product_code=PRODUCT_CODE,
            track="RC",
            max_workers=4,
            progress_bar=sys.stderr,
        )
    report.write_csv(target)
    print(report.summary())
    for outcome in report.failed:
        where = f" [{outcome.error_field}]" if outcome.error_field else ""
        print(f"  {outcome.candidate.email}: failed{where}: {outcome.error_message}")
    print(f"outcomes written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
