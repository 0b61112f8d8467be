"""A small PySOA service (``users``) and a consumer of it, with rpctest tests for both."""
