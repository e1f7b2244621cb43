"""The kernel side: out-of-tree modules across a kernel upgrade (kABI).

    symvers.py   Module.symvers and .config read; the RDMA area
    facts.py     a stack's kernel inputs: headers fetched, image facts, or the baseline
    compare.py   symbol and kernel-level findings, A to B
    btf.py       BTF read: the structs behind a changed CRC, where both kernels have BTF
    modules.py   a .ko read: modinfo, __versions, undefined symbols, struct module size
    predict.py   would a module load? the kernel's own checks in its order
    lab.py       the proof: insmod in a lab guest of B's kernel
    build.py     an out-of-tree module built against a private unpack of the headers
    baseline.py  baselines/kabi/<stack>/: the RDMA exports and the kernel facts
"""
