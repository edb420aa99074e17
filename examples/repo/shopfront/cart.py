"""Shopping carts, kept in memory per user."""

from dataclasses import dataclass, field

_CARTS = {}


@dataclass
class Cart:
    user_id: int
    items: dict = field(default_factory=dict)  # product id -> quantity

    @classmethod
    def for_user(cls, user_id):
        return _CARTS.setdefault(user_id, cls(user_id))

    def add(self, product_id, quantity=1):
        self.items[product_id] = self.items.get(product_id, 0) + quantity

    def as_dict(self):
        return {"user": self.user_id, "items": dict(self.items)}
