"""A small ZeroJSON interface (``com.example.shop``) and a consumer of it, with rpctest tests for both."""
