"""Honest evaluation, built on :class:`ipytune.search.engine.Search`.

- :mod:`.compare`: ``--compare``, the same cell searched by several methods on one budget;
- :mod:`.nested`: ``--nested K``, an outer K-fold loop around the whole search;
- :mod:`.automl`: ``ipytune.automl`` / ``%automl``, one search per model family and a leaderboard,
  with its :mod:`.families` and :mod:`.data_checks`; :mod:`.folds` holds the outer folds both nest with.
"""
