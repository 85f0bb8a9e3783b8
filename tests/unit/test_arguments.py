"""Argument composition: reserved names, inputs by key, parameters, defaults, and every refusal."""

from __future__ import annotations

import pytest

from digitalhub_runtime_python.execution.arguments import ArgumentError, compose_arguments

RESERVED = {"project": "PROJECT", "context": "CONTEXT", "events": None}


def test_reserved_inputs_parameters_and_defaults() -> None:
    def handler(project, context, events, di, a, b=2):
        return None

    kwargs = compose_arguments(handler, {"a": 1}, {"di": "DATAITEM"}, RESERVED)
    assert kwargs == {"project": "PROJECT", "context": "CONTEXT", "events": None, "di": "DATAITEM", "a": 1}


def test_parameter_overrides_default() -> None:
    assert compose_arguments(lambda a, b=2: None, {"a": 1, "b": 3}, {}, RESERVED) == {"a": 1, "b": 3}


def test_missing_required_argument_is_named() -> None:
    with pytest.raises(ArgumentError, match="missing required argument\\(s\\) 'b'"):
        compose_arguments(lambda a, b: None, {"a": 1}, {}, RESERVED)


def test_reserved_name_as_parameter_is_refused() -> None:
    with pytest.raises(ArgumentError, match="\\['project'\\] are reserved"):
        compose_arguments(lambda project: None, {"project": "x"}, {}, RESERVED)


def test_name_given_as_input_and_parameter_is_refused() -> None:
    with pytest.raises(ArgumentError, match="given both as input and as parameter"):
        compose_arguments(lambda di: None, {"di": 1}, {"di": "X"}, RESERVED)


def test_unknown_parameter_is_refused_without_kwargs() -> None:
    with pytest.raises(ArgumentError, match="handler has no argument\\(s\\) 'c'"):
        compose_arguments(lambda a: None, {"a": 1, "c": 3}, {}, RESERVED)


def test_extra_parameters_go_to_kwargs() -> None:
    def handler(a, **rest):
        return None

    assert compose_arguments(handler, {"a": 1, "c": 3}, {"d": "D"}, RESERVED) == {"a": 1, "c": 3, "d": "D"}


def test_positional_only_is_refused() -> None:
    def handler(a, /):
        return None

    with pytest.raises(ArgumentError, match="positional-only"):
        compose_arguments(handler, {"a": 1}, {}, RESERVED)


def test_reserved_args_not_requested_are_not_passed() -> None:
    assert compose_arguments(lambda: None, {}, {}, RESERVED) == {}


def test_typo_names_the_unknown_and_the_missing_and_suggests_the_match() -> None:
    with pytest.raises(ArgumentError) as caught:
        compose_arguments(lambda a, b: None, {"a": 1, "bb": 2}, {}, RESERVED)
    assert str(caught.value) == (
        "handler has no argument(s) 'bb'; missing required argument(s) 'b': did you mean 'b' instead of 'bb'?"
    )


def test_typo_of_an_optional_argument_is_suggested() -> None:
    with pytest.raises(ArgumentError, match="^handler has no argument\\(s\\) 'sclae': did you mean 'scale' instead"):
        compose_arguments(lambda x, scale=1: None, {"x": 1, "sclae": 2}, {}, RESERVED)


def test_typo_into_kwargs_still_suggests_the_missing_argument() -> None:
    def handler(b, **rest):
        return None

    with pytest.raises(ArgumentError, match="^missing required argument\\(s\\) 'b': did you mean 'b' instead of 'bb'"):
        compose_arguments(handler, {"bb": 2}, {}, RESERVED)


def test_unknown_and_missing_without_a_close_match() -> None:
    with pytest.raises(ArgumentError) as caught:
        compose_arguments(lambda a, b: None, {"a": 1, "zzz": 2}, {}, RESERVED)
    assert str(caught.value) == (
        "handler has no argument(s) 'zzz'; missing required argument(s) 'b': "
        "pass each argument by its name in parameters or inputs"
    )
