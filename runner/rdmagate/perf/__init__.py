"""Performance: comparing fast-path measurements with a statistical verdict."""
