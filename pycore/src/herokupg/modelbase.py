"""A small typed model layer for API objects: what herokupg used pydantic for, at a fraction of the cost.

A model is a class with annotated fields; a field's default is a plain value or :func:`field`. Field
types are read from the annotations lazily (on first use of each class), so defining a model is cheap.
Supported field types: ``str``, ``int``, ``bool``, ``Any``, models, ``list[T]``, ``dict[str, T]`` and
unions of them with ``None``. Validation follows pydantic's lax mode where the API needs it: a union
takes the first exact match, then the first member that converts (``"06"`` → ``6`` for an ``int``).

Unknown keys are kept in :attr:`BaseModel.model_extra` and readable as attributes.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self, Union, get_args, get_origin, get_type_hints

_NoneType = type(None)


class _Missing:
    def __repr__(self) -> str:
        return "<required>"


_MISSING: Any = _Missing()


class ModelValidationError(ValueError):
    """Data that does not fit a model: ``errors`` lists ``(location, message)`` pairs."""

    def __init__(self, model: str, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        lines = "\n".join(f"  {loc or '(root)'}: {msg}" for loc, msg in errors)
        super().__init__(f"{len(errors)} validation error(s) for {model}\n{lines}")


class _Invalid(Exception):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors


def _fail(message: str, value: Any) -> _Invalid:
    # The type only, never the value: a bad API answer may carry a secret not registered yet.
    return _Invalid([("", f"{message}, got {type(value).__name__}")])


def _at(loc: str | int, errors: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(f"{loc}.{sub}" if sub else str(loc), msg) for sub, msg in errors]


class FieldSpec:
    """How a field is read (``validation_alias``), written (``alias``) and shown (``repr``)."""

    def __init__(
        self,
        default: Any = _MISSING,
        default_factory: Callable[[], Any] | None = None,
        alias: str | None = None,
        validation_alias: tuple[str, ...] = (),
        repr: bool = True,
    ) -> None:
        self.default = default
        self.default_factory = default_factory
        self.alias = alias
        self.validation_alias = validation_alias
        self.repr = repr


def field(
    default: Any = _MISSING,
    *,
    default_factory: Callable[[], Any] | None = None,
    alias: str | None = None,
    validation_alias: tuple[str, ...] = (),
    repr: bool = True,
) -> Any:
    """A field with options; typed ``Any`` so that ``x: int = field(...)`` type-checks."""
    return FieldSpec(default, default_factory, alias, validation_alias, repr)


class _Field:
    def __init__(self, name: str, type_: Any, spec: FieldSpec) -> None:
        self.name = name
        self.type = type_
        self.spec = spec
        # Lookup order: the validation aliases (or the alias), then the Python name (populate by name).
        keys = spec.validation_alias or ((spec.alias,) if spec.alias else ())
        self.keys = (*keys, name) if name not in keys else keys
        self.dump_key = spec.alias or name

    def default(self) -> Any:
        if self.spec.default_factory is not None:
            return self.spec.default_factory()
        return self.spec.default


_FIELDS: dict[type, dict[str, _Field]] = {}


def _convert(tp: Any, value: Any, lax: bool) -> Any:
    """``value`` as type ``tp``, or raise :class:`_Invalid`. ``lax`` allows conversions (str → int)."""
    if tp is Any:
        return value
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        members = get_args(tp)
        if value is None and _NoneType in members:
            return None
        for mode in (False, True) if lax else (False,):
            for member in members:
                if member is not _NoneType:
                    try:
                        return _convert(member, value, mode)
                    except _Invalid:
                        pass
        names = " | ".join("None" if m is _NoneType else getattr(m, "__name__", str(m)) for m in members)
        raise _fail(f"expected {names}", value)
    if origin is list:
        if not isinstance(value, list | tuple):
            raise _fail("expected a list", value)
        (item_type,) = get_args(tp)
        items = []
        for index, item in enumerate(value):
            try:
                items.append(_convert(item_type, item, lax))
            except _Invalid as exc:
                raise _Invalid(_at(index, exc.errors)) from None
        return items
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail("expected an object", value)
        _, value_type = get_args(tp)
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _fail("expected string keys", key)
            try:
                result[key] = _convert(value_type, item, lax)
            except _Invalid as exc:
                raise _Invalid(_at(key, exc.errors)) from None
        return result
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise _fail(f"expected an object ({tp.__name__})", value)
        try:
            return tp.model_validate(value)
        except ModelValidationError as exc:
            raise _Invalid(exc.errors) from None
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _fail("expected a boolean", value)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if lax and isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        if lax and isinstance(value, float) and value.is_integer():
            return int(value)
        raise _fail("expected an integer", value)
    if tp is str:
        if isinstance(value, str):
            return value
        raise _fail("expected a string", value)
    raise TypeError(f"unsupported field type {tp!r}")


def _dump(value: Any, by_alias: bool) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=by_alias)
    if isinstance(value, list):
        return [_dump(v, by_alias) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v, by_alias) for k, v in value.items()}
    return value


class BaseModel:
    """Base of the API models: validating constructor, unknown keys kept, secrets kept out of ``repr``."""

    # Properties included in model_dump() and repr (pydantic's computed fields).
    computed_fields: ClassVar[tuple[str, ...]] = ()
    model_extra: dict[str, Any]

    def __init__(self, **data: Any) -> None:
        fields = self.model_fields()
        values: dict[str, Any] = {}
        errors: list[tuple[str, str]] = []
        used: set[str] = set()
        for f in fields.values():
            key = next((k for k in f.keys if k in data), None)
            used.update(f.keys)
            if key is None:
                if f.spec.default is _MISSING and f.spec.default_factory is None:
                    errors.append((f.name, "field required"))
                else:
                    values[f.name] = f.default()
                continue
            try:
                values[f.name] = _convert(f.type, data[key], True)
            except _Invalid as exc:
                errors.extend(_at(key, exc.errors))
        if errors:
            raise ModelValidationError(type(self).__name__, errors)
        self.__dict__.update(values)
        self.model_extra = {k: v for k, v in data.items() if k not in used}
        self._after_validation()

    def _after_validation(self) -> None:
        """Hook run once the fields are set (e.g. to register secrets)."""

    @classmethod
    def model_fields(cls) -> dict[str, _Field]:
        """The declared fields, resolved from the annotations on first use."""
        fields = _FIELDS.get(cls)
        if fields is None:
            hints = get_type_hints(cls)
            fields = {}
            for name, tp in hints.items():
                if name == "model_extra" or get_origin(tp) is ClassVar or tp is ClassVar:
                    continue
                default = getattr(cls, name, _MISSING)
                spec = default if isinstance(default, FieldSpec) else FieldSpec(default)
                fields[name] = _Field(name, tp, spec)
            _FIELDS[cls] = fields
        return fields

    @classmethod
    def model_validate(cls, obj: Any) -> Self:
        if isinstance(obj, cls):
            return obj
        if not isinstance(obj, dict) or not all(isinstance(k, str) for k in obj):
            raise ModelValidationError(cls.__name__, _fail("expected an object", obj).errors)
        return cls(**obj)

    def model_dump(self, *, by_alias: bool = False) -> dict[str, Any]:
        out = {
            (f.dump_key if by_alias else name): _dump(self.__dict__[name], by_alias)
            for name, f in self.model_fields().items()
        }
        out.update(_dump(self.model_extra, by_alias))
        for name in self.computed_fields:
            out[name] = _dump(getattr(self, name), by_alias)
        return out

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        """A shallow copy; ``update`` values are set as given (not validated), as pydantic does."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.model_extra = dict(self.model_extra)
        fields = self.model_fields()
        for key, value in (update or {}).items():
            if key in fields:
                clone.__dict__[key] = value
            else:
                clone.model_extra[key] = value
        return clone

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            extra = self.__dict__.get("model_extra")
            if extra is not None and not name.startswith("__") and name in extra:
                return extra[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr_args__(self) -> Iterable[tuple[str, Any]]:
        for name, f in self.model_fields().items():
            if f.spec.repr:
                yield name, self.__dict__[name]
        yield from self.model_extra.items()
        for name in self.computed_fields:
            yield name, getattr(self, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__repr_args__())})"

    def __str__(self) -> str:
        return " ".join(f"{k}={v!r}" for k, v in self.__repr_args__())
