"""The knowledge base: products, interactions, contraception, rule sets and checklist.

The facts are data under ``resources/knowledge/``; this package loads and validates them.
"""
