"""The settings module a PYSOA_SETTINGS_MODULE names (pysoa.test's fallback when a case sets no server_settings)."""

SOA_SERVER_SETTINGS = {"middleware": []}
