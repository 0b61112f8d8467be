"""``schemasvc``: a PySOA service whose schemas use every Conformity field type, for the schema export tests.

``EXACT`` holds fields whose ``introspect()`` keeps everything the export uses, so the export of the
live classes and the export of the ``introspect`` action must be equal for the actions built from
them. ``LOSSY_INTROSPECTION`` holds the fields where ``introspect()`` itself drops information; the
action built from them is where the two exports are expected to differ (the tests say exactly how).
"""

from __future__ import annotations

import datetime
import decimal
from collections import OrderedDict

from conformity import fields
from pysoa.common.errors import Error
from pysoa.server.action import Action
from pysoa.server.action.switched import SwitchedAction
from pysoa.server.errors import ActionError
from pysoa.server.server import Server

ERROR_CODE_QUOTA = "QUOTA_EXCEEDED"


class Payment:
    """A class for ObjectInstance."""


class Plugin:
    """A base class for ClassConfigurationSchema and TypeReference."""


class EvenOnly(fields.AdditionalCollectionValidator):
    def errors(self, value):
        return [] if len(value) % 2 == 0 else [fields.Base().errors(value)[0]]


class ServiceLookupError(Exception):
    pass


class ShoutingString(fields.UnicodeString):
    """A custom field class: its extra rule lives in errors(), which no schema can see."""

    def errors(self, value):
        errors = super().errors(value)
        return errors or ([] if value.isupper() else [Error(code="INVALID", message="Not upper-case")])


EXACT: dict[str, fields.Base] = {
    "dictionary": fields.Dictionary(
        {"a": fields.Integer(), "b": fields.UnicodeString()}, optional_keys=("b",), description="A dictionary."
    ),
    "open_dictionary": fields.Dictionary({"a": fields.Integer()}, allow_extra_keys=True),
    "ordered_dictionary": fields.Dictionary(OrderedDict([("z", fields.Boolean()), ("y", fields.Boolean())])),
    "schemaless": fields.SchemalessDictionary(key_type=fields.UnicodeString(max_length=3), value_type=fields.Integer()),
    "schemaless_default": fields.SchemalessDictionary(),
    "schemaless_int_keys": fields.SchemalessDictionary(key_type=fields.Integer(), min_length=1, max_length=3),
    "list": fields.List(fields.Integer(), min_length=1, max_length=3, description="A list."),
    "sequence": fields.Sequence(fields.Boolean()),
    "set": fields.Set(fields.UnicodeString(), max_length=2),
    "tuple": fields.Tuple(fields.Integer(), fields.UnicodeString()),
    "empty_tuple": fields.Tuple(),
    "unicode": fields.UnicodeString(min_length=1, max_length=5, allow_blank=False, description="A string."),
    "bytes": fields.ByteString(max_length=4),
    "unicode_decimal": fields.UnicodeDecimal(),
    "email": fields.EmailAddress(),
    "ip": fields.IPAddress(),
    "ipv4": fields.IPv4Address(),
    "ipv6": fields.IPv6Address(),
    "latitude": fields.Latitude(),
    "longitude": fields.Longitude(lte=10),
    "integer": fields.Integer(gt=0, lte=10),
    "float": fields.Float(gte=-1.5, lt=2.5),
    "decimal": fields.Decimal(gt=decimal.Decimal(0), lte=decimal.Decimal("100.5")),
    "boolean": fields.Boolean(description="A flag."),
    "nullable": fields.Nullable(fields.UnicodeString(max_length=3)),
    "nullable_dictionary": fields.Nullable(fields.Dictionary({"a": fields.Integer()})),
    "nullable_constant": fields.Nullable(fields.Constant("x", "y")),
    "null": fields.Null(),
    "constant": fields.Constant("only"),
    "constants": fields.Constant("b", "a", 3, description="Several."),
    "anything": fields.Anything(),
    "hashable": fields.Hashable(),
    "any": fields.Any(fields.Integer(), fields.UnicodeString(), description="Either."),
    "all": fields.All(fields.UnicodeString(max_length=5), fields.UnicodeString(min_length=2)),
    "all_conflict": fields.All(fields.Integer(gt=0), fields.Integer(gt=5)),
    "object": fields.ObjectInstance(Payment),
    "objects": fields.ObjectInstance((Payment, int)),
    "datetime": fields.DateTime(gt=datetime.datetime(2020, 1, 1)),
    "date": fields.Date(),
    "time": fields.Time(lte=datetime.time(12, 0)),
    "timedelta": fields.TimeDelta(lt=datetime.timedelta(days=1)),
    "tzinfo": fields.TZInfo(),
    "polymorph": fields.Polymorph(
        "kind",
        {
            "card": fields.Dictionary({"kind": fields.Constant("card"), "number": fields.UnicodeString()}),
            "__default__": fields.Dictionary({"kind": fields.UnicodeString()}),
        },
    ),
    "class_config": fields.ClassConfigurationSchema(base_class=Plugin),
    "type_reference": fields.TypeReference(base_classes=Plugin),
    "python_path": fields.PythonPath(),
    "type_path": fields.TypePath(base_classes=Plugin),
    "boolean_validator": fields.BooleanValidator(lambda v: v > 0, "v > 0", "Not positive"),
    "additional_validator": fields.List(fields.Integer(), additional_validator=EvenOnly()),
}

LOSSY_INTROSPECTION: dict[str, fields.Base] = {
    "email_bounded": fields.EmailAddress(max_length=40),
    "ipv4_not_blank": fields.IPv4Address(allow_blank=False),
    "timedelta_zero": fields.TimeDelta(gte=datetime.timedelta(0)),
    "custom_errors": ShoutingString(),
    "deprecated": fields.Deprecated(fields.Integer()),
}


def _split(names: list[str]) -> fields.Dictionary:
    return fields.Dictionary({name: EXACT[name] for name in names}, optional_keys=names)


_NAMES = sorted(EXACT)


class StructuresAction(Action):
    """Every structure field in the request, every scalar field in the response."""

    request_schema = _split(_NAMES[: len(_NAMES) // 2])
    response_schema = _split(_NAMES[len(_NAMES) // 2 :])

    def run(self, request):
        if request.body.get("integer") == 7:
            raise ActionError(errors=[Error(code=ERROR_CODE_QUOTA, message="Over quota")])
        if request.body.get("integer") == 8:
            raise ValueError("BOOM")  # Python's own exception: a message, not a code
        if request.body.get("integer") == 9:
            raise ServiceLookupError("Nothing found here")  # a message: has whitespace
        raise ActionError([Error("NOT_IMPLEMENTED", "Nothing to see")])


class LossyIntrospectionAction(Action):
    description = "The fields introspect() cannot describe fully."
    request_schema = fields.Dictionary(LOSSY_INTROSPECTION, optional_keys=("deprecated",))

    def validate(self, request):
        if request.body.get("email_bounded") == "root@localhost":
            raise ActionError(errors=[Error(code="FORBIDDEN_ADDRESS", message="Not that one", field="email_bounded")])

    def run(self, request):
        return {}


class BaseAuditedAction(Action):
    """A base class in user code: its codes count for every subclass."""

    def audit(self):
        raise ActionError(errors=[Error(code="AUDIT_FAILED", message="Audit failed")])


class NoSchemaAction(BaseAuditedAction):
    def run(self, request):
        if not request.body:
            raise ActionError(errors=[Error(code="INVALID", message="Empty")])  # a standard code: not listed
        return {"echo": request.body}


class SearchV1(Action):
    """Search, the old way."""

    request_schema = fields.Dictionary({"q": fields.UnicodeString()})
    response_schema = fields.Dictionary({"hits": fields.List(fields.Integer())})

    def run(self, request):
        return {"hits": []}


class SearchV2(Action):
    """Search, the new way."""

    request_schema = fields.Dictionary({"q": fields.UnicodeString()})
    response_schema = fields.Dictionary({"hits": fields.List(fields.UnicodeString())})

    def run(self, request):
        raise ActionError(errors=[Error(code="SEARCH_DOWN", message="Try later")])


class SearchAction(SwitchedAction):
    switch_to_action_map = ((5, SearchV2), (SwitchedAction.DEFAULT_ACTION, SearchV1))


class SchemaServer(Server):
    """A service with every Conformity field type."""

    service_name = "schemasvc"
    action_class_map = {  # noqa: RUF012 - PySOA's convention
        "structures": StructuresAction,
        "lossy_introspection": LossyIntrospectionAction,
        "no_schema": NoSchemaAction,
        "search": SearchAction,
    }
