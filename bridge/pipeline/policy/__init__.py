"""Account policy before a credit is spent: number lists, RM0, credits, caps, duplicates.

An account with every policy off has no `AccountPolicy` (its route's `policy` is None), and
the pipeline tests that one attribute per message; docs/policy.md is the operator's view.
"""
