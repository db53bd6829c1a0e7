"""The add-on catalog the sandbox knows: the heroku-postgresql service and its plans, with
stable ids (uuid5 of the name, so they survive restarts) and monthly prices in cents
(Heroku's list prices; approximate for the largest plans, which nothing here depends on)."""

from __future__ import annotations

import uuid
from typing import Any

SERVICE = "heroku-postgresql"
DEFAULT_PLAN = "essential-0"
_NS = uuid.UUID("6c67493d-8fc2-4cd4-9161-4f1ec11cbe69")

PLAN_PRICES: dict[str, int] = {
    # Essential (and the legacy hobby/mini/basic plans they replaced)
    "essential-0": 500, "essential-1": 900, "essential-2": 2000,
    "mini": 500, "basic": 900, "hobby-dev": 0, "hobby-basic": 900, "dev": 0,
    # Standard
    "standard-0": 5000, "standard-2": 20000, "standard-3": 40000, "standard-4": 75000,
    "standard-5": 140000, "standard-6": 200000, "standard-7": 350000, "standard-8": 450000,
    "standard-9": 550000, "standard-10": 700000,
    # Premium
    "premium-0": 20000, "premium-2": 35000, "premium-3": 75000, "premium-4": 120000,
    "premium-5": 250000, "premium-6": 350000, "premium-7": 600000, "premium-8": 850000,
    "premium-9": 1150000, "premium-10": 1500000,
    # Private spaces
    "private-0": 30000, "private-2": 60000, "private-3": 112500, "private-4": 180000,
    "private-5": 375000, "private-6": 525000, "private-7": 900000, "private-8": 1275000,
    "private-9": 1725000, "private-10": 2250000,
    # Shield
    "shield-0": 35000, "shield-2": 70000, "shield-3": 131250, "shield-4": 210000,
    "shield-5": 437500, "shield-6": 612500, "shield-7": 1050000, "shield-8": 1487500,
    "shield-9": 2012500, "shield-10": 2625000,
}


def service_id(name: str = SERVICE) -> str:
    return str(uuid.uuid5(_NS, f"service:{name}"))


def plan_id(full_name: str) -> str:
    return str(uuid.uuid5(_NS, f"plan:{full_name}"))


def normalize_plan(value: str) -> str:
    """``heroku-postgresql`` -> the default plan; ``heroku-postgresql:<plan>`` checked against the
    catalog. Raises ValueError with a message a user can act on."""
    service, _, plan = value.strip().partition(":")
    if service != SERVICE:
        raise ValueError(
            f"Couldn't find either the add-on service or the add-on plan of {value!r}: "
            f"this sandbox emulates only {SERVICE}."
        )
    plan = plan or DEFAULT_PLAN
    if plan not in PLAN_PRICES:
        known = ", ".join(PLAN_PRICES)
        raise ValueError(f"Couldn't find the {SERVICE} plan {plan!r}. Known plans: {known}.")
    return f"{SERVICE}:{plan}"


def plan_ref(full_name: str) -> dict[str, Any]:
    return {"id": plan_id(full_name), "name": full_name}


def plan_json(full_name: str) -> dict[str, Any]:
    plan = full_name.partition(":")[2]
    cents = PLAN_PRICES.get(plan, 0)
    return {
        "id": plan_id(full_name),
        "name": full_name,
        "price": {"cents": cents, "contract": False, "unit": "month", "metered": False},
    }


def billed_price(full_name: str) -> dict[str, Any]:
    return {"cents": PLAN_PRICES.get(full_name.partition(":")[2], 0), "contract": False, "unit": "month"}
