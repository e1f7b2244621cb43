"""rdmagate fleet: the suites on every node of a cluster through its own
scheduler (Slurm), or on this machine's "nodes" (--scheduler local).

    job.py      the batch job that holds the nodes: its script, sbatch, scancel
    follow.py   following that job with squeue and scontrol (no accounting)
    node.py     one node's preflight and suites into nodes/<node>/
    record.py   fleet.json: typed, versioned, written and loaded
    junit.py    junit.xml across nodes (classname <node>.<suite>)
"""
