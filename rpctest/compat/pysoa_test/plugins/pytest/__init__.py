"""``pysoa.test.plugins.pytest``: see :mod:`.fixtures`."""
