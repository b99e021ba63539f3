"""Saved runs: the run record's schema, run ids, the registry (list, load, delete,
export, import under the access rules), the check of an imported model in a process of
its own, and TensorBoard over saved runs.
"""
