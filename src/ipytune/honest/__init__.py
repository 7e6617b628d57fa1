"""Honest evaluation, built on :class:`ipytune.search.engine.Search`: features that run several searches.

- :mod:`.compare`: ``--compare``, the same cell searched by several methods on one budget;
- :mod:`.nested`: ``--nested K``, an outer K-fold loop around the whole search;
- :mod:`.automl`: ``ipytune.automl`` / ``%automl``, one search per model family
  (:mod:`.families`), after :mod:`.data_checks`; its result is :mod:`.leaderboard`;
- :mod:`.folds`: the outer folds ``--nested`` and ``%automl --nested`` hold out.
"""
