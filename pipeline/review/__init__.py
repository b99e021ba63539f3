"""Label review: out-of-fold scores, the ranking of likely mislabelled rows (cleanlab), the
corrections a user accepts, and their cache.
"""
