"""The search loop's contract with Optuna."""

from __future__ import annotations
