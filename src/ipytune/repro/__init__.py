"""``%%repro``: is a cell reproducible, and which seed sources matter.

- :mod:`.check`: runs the cell several times (and with each seed source left out);
- :mod:`.difference`: compares what the runs returned and says where they differ.
"""
