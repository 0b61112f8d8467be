"""Drop-in replacements for other projects' testing helpers, for suites moving to rpctest.

Each module here is imported only by the user's tests, by name (``rpctest.compat.pysoa_test``); the
plugin never imports one, so ``import rpctest`` stays free of stack libraries.
"""
