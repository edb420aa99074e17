"""HTTP entry point: routes requests to handlers, after authentication."""

from shopfront.auth import require_user
from shopfront.cart import Cart

ROUTES = {}


def route(path):
    def register(handler):
        ROUTES[path] = handler
        return handler
    return register


@route("/cart")
def show_cart(request):
    user = require_user(request)  # every cart request must carry a valid session token
    return Cart.for_user(user.id).as_dict()


def handle(request):
    handler = ROUTES.get(request.path)
    if handler is None:
        return {"status": 404}
    return handler(request)
