"""Experiment tracking on trackio: every ``%%tune`` trial is a trackio run.

- :mod:`.observer` watches a search (an engine ``Observer``) and turns each
  finished trial into a run;
- :mod:`.writer` writes runs on a background thread, off the search's critical path;
- :mod:`.runs` reads any trackio project back as DataFrames;
- :mod:`._trackio` is everything borrowed from trackio's internals (its
  storage, its folder constants, its reserved config keys), in one place;
- :mod:`.api` is ``tune.log`` and ``tune.track`` for ordinary cells;
- :mod:`.environment` captures versions, git commit and seed once per study.

Nothing here imports trackio (or pandas) until a run is written or read.
"""
