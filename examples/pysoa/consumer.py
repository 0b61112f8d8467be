"""Code that calls the ``users`` service: what a consumer team writes, and tests with rpctest stubs."""

from __future__ import annotations

from pysoa.client.client import Client


def profile_line(client: Client, user_id: int) -> str:
    """One line for a profile page; a missing user is shown, not raised."""
    try:
        response = client.call_action("users", "get_user", body={"id": user_id})
    except Client.CallActionError as error:
        codes = {e.code for a in error.actions for e in a.errors}
        if "NOT_FOUND" in codes:
            return f"#{user_id}: (no such user)"
        raise
    user = response.body["user"]
    tags = f" [{', '.join(user['tags'])}]" if user["tags"] else ""
    return f"#{user['id']}: {user['name']} <{user['email']}>{tags}"


def register(client: Client, name: str, email: str) -> tuple[int | None, list[str]]:
    """Create a user; returns (id, []) or (None, readable problems) for the form to show."""
    response = client.call_action(
        "users", "create_user", body={"name": name, "email": email}, raise_action_errors=False
    )
    if response.errors:
        return None, [f"{e.field or 'request'}: {e.code}" for e in response.errors]
    return response.body["user"]["id"], []


def directory(client: Client, limit: int = 10) -> list[str]:
    """Names of the first users, fetched together with the total in one job."""
    responses = client.call_actions("users", [{"action": "list_users", "body": {"limit": limit}}])
    return [u["name"] for u in responses.actions[0].body["users"]]
