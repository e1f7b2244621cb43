"""The upgrade gate: stack A to stack B, one verdict, one report.

    gate.run(...)      the phases, each recorded in upgrade.json as it ends
    verdict.decide(d)  GO, GO WITH RISKS or NO-GO, with the reasons ranked
"""
