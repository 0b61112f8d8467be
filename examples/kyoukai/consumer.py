"""Code that calls the shop: one client on httpx, one function on urllib (any other HTTP client)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import httpx


class ShopClient:
    """The shop's httpx client, as a consumer team would write it."""

    def __init__(self, base_url: str, *, timeout: float = 5.0) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout)

    def price(self, sku: str) -> int | None:
        response = self._http.get(f"/items/{sku}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()["price"]

    def order(self, sku: str, quantity: int) -> str:
        response = self._http.post("/orders", json={"sku": sku, "quantity": quantity})
        if response.status_code == 422:
            return "rejected: " + response.text
        response.raise_for_status()
        order = response.json()
        return f"order {order['id']}: {order['quantity']} x {order['sku']} = {order['total']}"

    def close(self) -> None:
        self._http.close()


def latest_order_count(base_url: str, limit: int = 10, *, timeout: float = 5.0) -> int:
    """How many of the latest orders there are, with urllib (no httpx): a stub server answers it."""
    with urllib.request.urlopen(f"{base_url}/orders?limit={limit}", timeout=timeout) as response:
        return len(json.loads(response.read())["orders"])
