"""Issue iTEP test IDs to every candidate in a CSV file and write each outcome back to CSV.

Offline by default: it runs against examkit's in-process fake of iTEP. With ``--live`` it calls iTEP
for real, reading EXAMKIT_ITEP_API_KEY and EXAMKIT_ITEP_SIGNATURE_HEADER from the environment.

    python examples/itep_issue_from_csv.py [candidates.csv] [outcomes.csv] [--live] [--dry-run]
                                           [--resume earlier-outcomes.csv] [--force]

Each candidate is attempted at most once (fulfillment calls are never retried); rows that fail keep
their place in the output with the reason. The outcomes file is the only record of which test ID
went to whom, so it is never replaced unless ``--force`` is given. Fix the failed rows and run again
with ``--resume outcomes.csv`` (and a new outcomes file): candidates already issued are not sent
again, and candidates whose test ID may have been allocated are listed to check in iTEP.
"""

from __future__ import annotations

import sys
from pathlib import Path

from examkit.itep import ItepClient, read_candidates_csv
from examkit.testing.itep import FakeItep

HERE = Path(__file__).resolve().parent
PRODUCT_CODE = "GTX-Academic-Plus"


def main(argv: list[str]) -> int:
    flags = {"--live", "--dry-run", "--force"}
    resume: Path | None = None
    args: list[str] = []
    rest = iter(argv)
    for arg in rest:
        if arg == "--resume":
            resume = Path(next(rest))
        elif arg not in flags:
            args.append(arg)
    source = Path(args[0]) if args else HERE / "itep_candidates.csv"
    target = Path(args[1]) if len(args) > 1 else Path("itep_outcomes.csv")
    if target.exists() and "--force" not in argv and "--dry-run" not in argv:
        print(f"{target} exists and may be the only record of test IDs already issued: pass --force")
        return 2

    candidates = read_candidates_csv(source)
    print(f"read {len(candidates)} candidates from {source.name}")

    if "--live" in argv:
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
            resume=resume,
            dry_run="--dry-run" in argv,
            stop_after=3,  # iTEP down: stop after three transport failures in a row
        )
    print(report.summary())
    if report.dry_run:
        for outcome in report.valid:
            print(f"  {outcome.candidate.email}: would send {outcome.body}")
    for outcome in report.failed:
        where = f" [{outcome.error_field}]" if outcome.error_field else ""
        print(f"  {outcome.candidate.email}: failed{where}: {outcome.error_message}")
    for outcome in report.to_check:
        print(f"  {outcome.candidate.email}: check in the iTEP administration system before issuing again")
    if not report.dry_run:
        report.write_csv(target, overwrite="--force" in argv)
        print(f"outcomes written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
