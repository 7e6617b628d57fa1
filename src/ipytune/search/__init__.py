"""The kernel: a ``%%tune`` cell becomes trials over one ``optuna.Study``.

- :mod:`.space`, :mod:`.declarations`, :mod:`.cell`: what is searched (``tune.*``, name inference, static space);
- :mod:`.settings`: the search's settings and vocabularies (methods, pruners, stop reasons), validated once;
- :mod:`.trial`: one trial: run the cell in a namespace copy and score what it returns;
- :mod:`.engine`: ONE :class:`~ipytune.search.engine.Search`: prepare -> trial loop -> result;
- :mod:`.samplers`: the samplers and pruners behind ``--method`` and ``--prune``;
- :mod:`.storage`: where studies live; :mod:`.result`: what a search returns; :mod:`.progress`: live progress;
- :mod:`._optuna`: everything borrowed from Optuna's internals, in one place.

Nothing heavy is imported here: Optuna loads when a search runs.
"""
