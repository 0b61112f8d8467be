"""The neutral schema: one JSON Schema dialect that every stack's declarations are converted into.

Why JSON Schema: it is what other tools (OpenAPI, Schemathesis, editors) already read, and a
provider contract must stay useful outside rpctest. Why a *dialect*: RPC stacks carry values JSON
has no type for (PySOA sends datetimes and decimals through msgpack), and a contract
that silently turned a ``datetime`` into "a string" would let a consumer stub a string where the
real provider sends a datetime.

Conventions (draft 2020-12 subset):

* Standard keywords only for what JSON can say: ``type`` (a name, or a list with ``"null"`` for a
  nullable value), ``properties``, ``required``, ``additionalProperties``, ``propertyNames``,
  ``items``, ``prefixItems``, ``minItems``, ``maxItems``, ``uniqueItems``, ``minLength``,
  ``maxLength``, ``pattern``, ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``,
  ``multipleOf``, ``enum``, ``const``, ``anyOf``, ``format``, ``description``, ``default``.
* ``x-rpctest-type`` names a native value type JSON lacks: ``datetime``, ``date``, ``time``,
  ``timedelta``, ``decimal``, ``bytes``, ``set``, ``tuple``, ``object``. The standard keywords beside
  it describe the value's JSON view (a ``datetime`` is also ``{"type": "string", "format":
  "date-time"}``), so JSON-only readers get a fair approximation while rpctest's validator checks the
  real type. ``object`` adds ``x-rpctest-class`` ("module.QualName", or a list of them). ``set``
  and ``tuple`` also accept a list: msgpack and JSON wires carry them as lists, so that is what a
  real reply holds (``uniqueItems`` and ``prefixItems`` keep what makes them sets and tuples).
* ``integer`` means a Python ``int``: an integral float such as ``28.0`` (which JSON Schema counts as an
  integer) is a number but not an integer here, because every stack's server is Python code that gets
  a ``float`` for it and refuses it (Conformity's ``Integer``, PyCOM's ``isinstance``, int-typed views).
* ``minLength`` / ``maxLength`` beside ``x-rpctest-type: bytes`` count bytes (a ``ByteString``'s
  lengths); JSON Schema itself applies them to strings only.
* ``x-rpctest-lossy`` (a sentence) marks a node whose native rule JSON Schema cannot express
  (a custom validator function, a Conformity ``Hashable``); exporters also list every such node in
  the operation's ``notes`` with its JSON pointer, so the loss is visible in the file.
* ``x-rpctest-match`` (a Python regular expression) holds when ``re.match(pattern, str(value))``
  does, for a value of *any* type: the rule of AsyncAPY's ``Filters.Fields``, which JSON Schema's
  ``pattern`` (strings only, ECMA regexes) can only approximate. Exporters put an anchored
  ``pattern`` beside it for JSON-only readers and for generating strings; rpctest's validators
  apply the Python rule (so ``{"a": 5}`` passes ``a="-?\\d+$"``, as it does on the server).
* ``x-rpctest-native`` names the native declaration a node came from (e.g. ``"UnicodeString"``),
  for messages and for strategies that want to go back to the native field.

:mod:`rpctest.schema.values` stores such values in contract files without loss (tagged JSON);
:mod:`rpctest.schema.validate` validates decoded values against the dialect.
"""
