"""A small pykern.api service (``wallet``) and a consumer of it, with rpctest tests for both."""
