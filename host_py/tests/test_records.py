"""Record classes (`sandlink.host._records`) behave as the frozen dataclasses they stand for,
and the startup path imports neither `dataclasses` nor the other modules it avoids."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandlink import Friend, Person
from sandlink.host import Err, Limits, Ok, Variant
from sandlink.host._records import factory, record, record_class


@dataclasses.dataclass(frozen=True, slots=True)
class TwinPerson:
    """What `Person` stands for, as a real dataclass."""

    name: str
    age: int
    cars: list[str] = dataclasses.field(default_factory=list)
    friends: list[Any] = dataclasses.field(default_factory=list)


def test_fields_defaults_and_factories() -> None:
    p = Person("Ann", 3)
    assert (p.name, p.age, p.cars, p.friends) == ("Ann", 3, [], [])
    assert Person("Ann", 3).cars is not p.cars  # a fresh list per instance
    assert Person("Ann", 3, cars=["a"]).cars == ["a"]
    assert Person.__match_args__ == ("name", "age", "cars", "friends")
    assert Ok().value is None and Variant("x").value is None
    with pytest.raises(TypeError):
        Person("Ann")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Person("Ann", 3, nickname="A")  # type: ignore[call-arg]


@given(st.text(), st.integers(), st.lists(st.text(), max_size=3))
def test_like_the_dataclass(name: str, age: int, cars: list[str]) -> None:
    ours, twin = Person(name, age, cars), TwinPerson(name, age, cars)
    assert repr(ours) == repr(twin).replace("TwinPerson", "Person")
    assert ours == Person(name, age, list(cars)) and ours != twin
    assert ours != Person(name, age + 1, cars)
    assert dataclasses.asdict(ours) == dataclasses.asdict(twin)
    assert dataclasses.astuple(ours) == dataclasses.astuple(twin)
    assert hash(Friend(name, age)) == hash(Friend(name, age))
    assert pickle.loads(pickle.dumps(ours)) == ours
    assert copy.deepcopy(ours) == ours and copy.copy(ours) == ours


def test_dataclasses_recognizes_them() -> None:
    assert dataclasses.is_dataclass(Person) and dataclasses.is_dataclass(Person("a", 1))
    fields = dataclasses.fields(Person)
    assert [f.name for f in fields] == ["name", "age", "cars", "friends"]
    assert fields[0].type == "str" and fields[2].default_factory is list
    assert dataclasses.fields(Ok)[0].default is None
    assert dataclasses.replace(Person("a", 1), age=2) == Person("a", 2)
    assert Person.__dataclass_params__.frozen


def test_frozen() -> None:
    p = Person("a", 1)
    with pytest.raises(dataclasses.FrozenInstanceError, match="'age'"):
        p.age = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.name  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.other = 1  # type: ignore[attr-defined]
    assert not hasattr(p, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        Limits().timeout = 1.0  # type: ignore[misc]


def test_unhashable_fields_make_an_unhashable_record() -> None:
    with pytest.raises(TypeError, match="unhashable"):
        hash(Person("a", 1, ["car"]))
    assert hash(Err(("a", 1))) == hash(Err(("a", 1)))


def test_a_record_inside_itself_shows_as_dots() -> None:
    p = Person("a", 1)
    p.cars.append(p)  # type: ignore[arg-type]
    assert repr(p) == "Person(name='a', age=1, cars=[...], friends=[])"


def test_post_init_and_methods_are_kept() -> None:
    with pytest.raises(ValueError, match="timeout"):
        Limits(timeout=float("nan"))
    assert Limits.none().memory is None
    assert pickle.loads(pickle.dumps(Limits(timeout=2.0))) == Limits(timeout=2.0)


def test_decorator_and_generated_classes() -> None:
    @record
    class Point:
        """A point."""

        x: int
        y: int = 0
        tags: list[str] = factory(list)

        def norm(self) -> int:
            return abs(self.x) + abs(self.y)

    assert Point(3, -4).norm() == 7 and Point.__qualname__.endswith("Point")
    assert Point.__doc__ == "A point."
    made = record_class("Pair", ("a", "b"), "sandlink.records")
    pair = made(1, b=2)
    assert (pair.a, pair.b, repr(pair)) == (1, 2, "Pair(a=1, b=2)")
    assert made.__module__ == "sandlink.records"
    with pytest.raises(ValueError, match="cannot be a field name"):
        record_class("Bad", ("not a name",), "m")


def test_startup_imports_only_what_it_needs() -> None:
    """A fresh `import sandlink; sandlink.load().add(1, 2)` stays off the slow modules
    (beyond what `import wasmtime` itself imports: on 3.10, `platform` imports `signal`)."""

    def modules(code: str) -> set[str]:
        code += "; import sys; print(' '.join(sorted(set(sys.modules))))"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return set(done.stdout.split())

    ours = modules("import sandlink; k = sandlink.load(); assert k.add(1, 2) == 3")
    ours -= modules("import wasmtime")
    for slow in ("dataclasses", "inspect", "pickle", "signal", "hashlib", "wasmtime.component"):
        assert slow not in ours, slow
