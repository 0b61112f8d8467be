"""``pysoa.test.plugins``: only the fixtures module has a counterpart (there is no test-plan plugin)."""
