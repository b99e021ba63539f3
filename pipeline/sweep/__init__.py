"""Sweeping settings with Ray Tune: the search space, one trial, the leaderboard and the
sweep that runs them.
"""
