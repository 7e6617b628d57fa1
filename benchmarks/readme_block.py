"""One benchmark's block of benchmarks/README.md, rewritten in place (the text after it is kept)."""

from __future__ import annotations

from pathlib import Path


def write_block(readme: Path, section: str, end: str, generated: str) -> None:
    """Put ``generated`` (which ends with ``end``) under the ``section`` heading, keeping what follows ``end``."""
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    if section not in text:
        readme.write_text(text.rstrip("\n") + f"\n\n{section}\n\n{generated}\n")
    else:
        head, rest = text.split(section, 1)
        following = rest.find("\n## ")
        mine, others = (rest, "") if following < 0 else (rest[: following + 1], rest[following + 1 :])
        kept = mine.split(end, 1)[1] if end in mine else "\n"
        readme.write_text(f"{head}{section}\n\n{generated}{kept}{others}")
    print(f"wrote {readme}")
