"""The implementation behind :mod:`rpctest.compat.pysoa_test`: ``pysoa.test``'s names, on current pytest.

It lives here, at the edge, because it imports pysoa (its ``Client``, ``Server`` and ``Error``) as the
names it stands in for do. Each module has one job: the ``raises_*`` helpers (:mod:`.assertions`), the
unittest-style polyfills (:mod:`.polyfills`), the server test cases (:mod:`.server`), ``StubClient``
(:mod:`.stub_client`) and the opt-in fixtures (:mod:`.fixtures`).
"""
