"""Optuna samplers that ipytune adds: a fast grid and a bayes_opt-backed GP."""
