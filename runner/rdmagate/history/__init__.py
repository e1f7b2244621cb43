"""The history of finished runs (check, upgrade, fleet) in one SQLite file.

    db.py        the database: schema, WAL, busy timeout, one transaction per run
    ingest.py    a run directory read into rows (per node, stack, profile, test)
    analysis.py  flaky tests and perf drift over the runs kept
    report.py    the report as text and as a self-contained HTML page (SVG trends)
"""
