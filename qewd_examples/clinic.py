"""A sample application: patients in the document store, a login that marks the session.

Run it with ``qewd-node run examples/node.toml`` and talk to it over ``/ws``.
"""

from __future__ import annotations

from typing import Any

from node_runtime import HandlerError


def login(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Accepts any user whose password is their name reversed (a demo, not security)."""
    params = msg.get("params") or {}
    user = str(params.get("username", ""))
    if not user or params.get("password") != user[::-1]:
        raise HandlerError("invalid username or password", code="E_LOGIN")
    ctx.session["authenticated"] = True
    ctx.session["username"] = user
    ctx.session["doctor_id"] = f"dr-{user}"
    ctx.session.make_secret("doctor_id")
    return {"ok": True, "username": user}


def save_patient(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Stores a patient document under a new numeric id."""
    if not ctx.session.get("authenticated"):
        raise HandlerError("log in first", code="E_FORBIDDEN")
    patient = (msg.get("params") or {}).get("patient")
    if not isinstance(patient, dict):
        raise HandlerError("params.patient must be an object", code="E_BAD_MESSAGE")
    new_id = ctx.store["clinicIds"]["patient"].increment()
    ctx.store["patients"][new_id].set_document(patient)
    return {"id": new_id}


def get_patient(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Returns one patient, with an intermediate progress message first."""
    patient_id = (msg.get("params") or {}).get("id")
    doc = ctx.store["patients"][patient_id]
    if not doc.exists:
        raise HandlerError(f"no patient {patient_id}", code="E_NOT_FOUND")
    ctx.send({"progress": 50})
    return {"id": patient_id, "patient": doc.get_document(), "node": ctx.node}


def echo(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Returns the params as they came, and which node answered."""
    return {"echo": msg.get("params"), "node": ctx.node}


def get_patient_rest(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """REST: GET /api/patient/:id."""
    doc = ctx.store["patients"][msg["args"]["id"]]
    if not doc.exists:
        raise HandlerError(f"no patient {msg['args']['id']}", code="E_NOT_FOUND")
    return {"id": msg["args"]["id"], "patient": doc.get_document(), "node": ctx.node}


handlers = {
    "login": login,
    "savePatient": save_patient,
    "getPatient": get_patient,
    "echo": echo,
}

rest = {"GET /api/patient/:id": get_patient_rest}
