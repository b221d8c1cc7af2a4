"""Wire dicts for customer files."""

from __future__ import annotations

from typing import Any

from console.customers.services import CustomerFile


def customer_dict(f: CustomerFile) -> dict[str, Any]:
    """The customer as the browser sees it (services.customer_file)."""
    c = f.customer
    data: dict[str, Any] = {
        "id": c.id,
        "name": c.name,
        "grade": c.grade,
        "phones": [p.number for p in c.phones],
        "fields": c.fields or {},
        "notes": c.notes,
    }
    if f.last_calls is not None:
        data["last_calls"] = [
            {
                "id": call.id,
                "arrived_at": call.arrived_at.isoformat(),
                "disposition": call.disposition_code,
                "end_reason": call.end_reason,
                "notes": call.notes,
            }
            for call in f.last_calls
        ]
    return data


def customer_dicts(files: list[CustomerFile]) -> list[dict[str, Any]]:
    return [customer_dict(f) for f in files]
