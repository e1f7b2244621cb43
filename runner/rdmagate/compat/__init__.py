"""Container images on a host: will the image's RDMA userspace work there?"""
