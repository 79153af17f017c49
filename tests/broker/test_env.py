"""Environment readers fail at start-up with a sentence naming the variable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from broker.env import database_from_url, env_bool, env_int, env_list, env_str


def test_env_readers_parse_values() -> None:
    environ = {"B": "yes", "I": " 42 ", "L": "a, b,,c", "S": "x"}

    assert env_bool("B", False, environ=environ) is True
    assert env_int("I", 0, environ=environ) == 42
    assert env_list("L", [], environ=environ) == ["a", "b", "c"]
    assert env_str("S", environ=environ) == "x"
    assert env_str("MISSING", "d", environ=environ) == "d"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: env_bool("B", False, environ={"B": "maybe"}), "B must be one of"),
        (lambda: env_int("I", 0, environ={"I": "ten"}), "I must be an integer"),
        (lambda: env_int("I", 0, minimum=1, environ={"I": "0"}), "I must be at least 1"),
        (lambda: env_str("NEEDED", environ={}), "NEEDED is required"),
        (lambda: database_from_url("mysql://x/y"), "DATABASE_URL must start with postgres://"),
        (lambda: database_from_url("postgres://host:5432/"), "needs a database name"),
    ],
    ids=["bool", "int", "int-min", "required", "scheme", "pg-no-db"],
)
def test_bad_values_fail_clearly(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImproperlyConfigured, match=message):
        call()


def test_database_url_for_postgres() -> None:
    config = database_from_url("postgres://u:p%40ss@db.example:6432/opencmk?sslmode=require")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "u",
        "p@ss",
        "db.example",
        "6432",
    )
    assert config["OPTIONS"] == {"sslmode": "require"}
