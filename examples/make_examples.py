"""Write the example inputs the README's commands run on: a contract PDF, a small repository, a log.

    python examples/make_examples.py            # (re)writes examples/contract.pdf, examples/repo/, examples/app.log
    python examples/make_examples.py OUT_DIR    # somewhere else (the tests do this)

The PDF is written by hand (no PDF library needed): one content stream per page, text in the standard
Helvetica font, so that any PDF reader, pypdf included, extracts the text. Everything is deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

CONTRACT = [
    (
        "MASTER SERVICES AGREEMENT",
        [
            "This Master Services Agreement (the Agreement) is made on 14 March 2024",
            "between Northwind Analytics Ltd (the Provider) and Contoso Retail plc (the Client).",
            "",
            "1. Services",
            "1.1 The Provider shall deliver the data-pipeline services described in Schedule A.",
            "1.2 The Provider shall meet the service levels in Schedule B: 99.5% monthly availability,",
            "    and a response within 4 business hours to any Severity 1 incident.",
            "",
            "2. Term",
            "2.1 The Agreement starts on 1 April 2024 and runs for an initial term of 24 months.",
            "2.2 It renews for successive 12-month terms unless either party gives notice under clause 9.",
        ],
    ),
    (
        "3. Fees and payment",
        [
            "3.1 The Client shall pay a monthly fee of EUR 18,500, invoiced in advance.",
            "3.2 Invoices are payable within 30 days. Late amounts bear interest at 1% per month.",
            "3.3 The Provider may raise the fees once a year, by no more than the change in the",
            "    euro-area consumer price index, with 60 days' written notice.",
            "",
            "4. Service credits",
            "4.1 If availability falls below 99.5% in a month, the Client receives a credit of 5% of",
            "    that month's fee for each full 0.5% below the target, capped at 30% of the fee.",
            "",
            "5. Confidentiality",
            "5.1 Each party keeps the other's confidential information secret for five years after",
            "    the Agreement ends, and uses it only to perform the Agreement.",
        ],
    ),
    (
        "6. Data protection",
        [
            "6.1 The Provider processes personal data only on the Client's documented instructions.",
            "6.2 The Provider notifies the Client of a personal data breach within 48 hours.",
            "",
            "7. Liability",
            "7.1 Neither party is liable for indirect or consequential loss.",
            "7.2 Each party's total liability in a contract year is capped at the fees paid in the",
            "    12 months before the claim, except for breach of clause 5 or clause 6.",
            "",
            "8. Intellectual property",
            "8.1 The Client owns its data and all reports produced from it.",
            "8.2 The Provider keeps ownership of its pipeline software and grants the Client a",
            "    licence to use it during the term.",
        ],
    ),
    (
        "9. Termination",
        [
            "9.1 Either party may terminate the Agreement for convenience with 90 days' written notice,",
            "    but not before the end of the initial term.",
            "9.2 Either party may terminate at once by written notice if the other commits a material",
            "    breach and does not remedy it within 30 days of being asked to.",
            "9.3 The Client may terminate at once if availability falls below 97% in two consecutive months.",
            "9.4 On termination the Provider returns all Client data within 30 days and then deletes it.",
            "",
            "10. Governing law",
            "10.1 This Agreement is governed by the laws of Ireland; the courts of Dublin have jurisdiction.",
            "",
            "Signed for the Provider: A. Byrne, CEO        Signed for the Client: M. Okafor, CFO",
        ],
    ),
]

REPO = {
    "README.md": "# shopfront\n\nA tiny web shop backend: products, carts, and user login.\n\n"
    "Run it with `python -m shopfront.app`.\n",
    "shopfront/__init__.py": '"""shopfront: a tiny web shop backend."""\n',
    "shopfront/app.py": '''"""HTTP entry point: routes requests to handlers, after authentication."""

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
''',
    "shopfront/auth.py": '''"""Authentication: password hashing, session tokens, and the require_user guard."""

import hashlib
import hmac
import os
import time

SESSION_SECONDS = 3600
SECRET = os.environ.get("SHOPFRONT_SECRET", "dev-secret").encode()


def hash_password(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 200_000)


def issue_token(user_id: int, now: float | None = None) -> str:
    expires = int((now or time.time()) + SESSION_SECONDS)
    payload = f"{user_id}:{expires}"
    signature = hmac.new(SECRET, payload.encode(), "sha256").hexdigest()
    return f"{payload}:{signature}"


def check_token(token: str, now: float | None = None) -> int | None:
    """The user id of a valid, unexpired token; None otherwise."""
    try:
        user_id, expires, signature = token.split(":")
    except ValueError:
        return None
    expected = hmac.new(SECRET, f"{user_id}:{expires}".encode(), "sha256").hexdigest()
    if not hmac.compare_digest(signature, expected) or int(expires) < (now or time.time()):
        return None
    return int(user_id)


class Unauthorized(Exception):
    pass


def require_user(request):
    user_id = check_token(request.headers.get("Authorization", "").removeprefix("Bearer "))
    if user_id is None:
        raise Unauthorized("missing or expired session token")
    return request.users.get(user_id)
''',
    "shopfront/cart.py": '''"""Shopping carts, kept in memory per user."""

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
''',
    "tests/test_auth.py": '''from shopfront.auth import check_token, issue_token


def test_token_round_trip():
    assert check_token(issue_token(7, now=0), now=10) == 7


def test_expired_token_is_refused():
    assert check_token(issue_token(7, now=0), now=10_000) is None
''',
}


def log_lines() -> list[str]:
    """A night of a batch job's log: routine lines, a few warnings, and a failure with its cause."""
    lines = []
    second = 0

    def at(s: int) -> str:
        return f"2024-03-14 02:{s // 60 % 60:02d}:{s % 60:02d}"

    lines.append(f"{at(0)} INFO  scheduler: nightly-export started (run 4182)")
    for batch in range(1, 41):
        second += 7
        lines.append(f"{at(second)} INFO  export: batch {batch}/60 written, 5000 rows, {180 + batch % 7 * 13} ms")
        if batch % 9 == 0:
            lines.append(f"{at(second + 1)} WARN  db: slow query took {1400 + batch * 11} ms: SELECT * FROM orders")
    second += 9
    lines += [
        f"{at(second)} WARN  db: connection pool exhausted (20/20 in use), waiting",
        f"{at(second + 30)} ERROR db: timeout after 30000 ms acquiring a connection",
        f"{at(second + 30)} ERROR export: batch 41/60 failed: psycopg.OperationalError: connection timeout",
        f"{at(second + 31)} INFO  export: retrying batch 41 (attempt 2/3)",
        f"{at(second + 61)} ERROR export: batch 41/60 failed again: connection timeout",
        f"{at(second + 62)} INFO  export: retrying batch 41 (attempt 3/3)",
        f"{at(second + 92)} ERROR export: giving up on batch 41 after 3 attempts",
        f"{at(second + 92)} ERROR scheduler: nightly-export FAILED (run 4182): 40/60 batches written",
        f"{at(second + 93)} INFO  alert: paged on-call (data-platform) for run 4182",
    ]
    return lines


def _pdf_text(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def contract_pdf() -> bytes:
    """A 4-page PDF 1.4 with one Helvetica text stream per page, built object by object."""
    objects: list[bytes] = []  # object i+1
    n_pages = len(CONTRACT)
    page_ids = [4 + 2 * i for i in range(n_pages)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for number, (title, body) in enumerate(CONTRACT, 1):
        ops = ["BT", "/F1 14 Tf", "72 740 Td", f"({_pdf_text(title)}) Tj", "/F1 10 Tf", "14 TL", "T*"]
        ops += [f"({_pdf_text(line)}) '" for line in body]
        ops += ["ET", "BT", "/F1 8 Tf", "290 40 Td", f"(page {number} of {n_pages}) Tj", "ET"]
        stream = "\n".join(ops).encode("latin-1")
        page_id = 4 + 2 * (number - 1)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {page_id + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def write_examples(out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    pdf = out / "contract.pdf"
    pdf.write_bytes(contract_pdf())
    repo = out / "repo"
    for name, text in REPO.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    log = out / "app.log"
    log.write_text("\n".join(log_lines()) + "\n", encoding="utf-8")
    return {"pdf": pdf, "repo": repo, "log": log}


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    for kind, path in write_examples(target).items():
        print(f"{kind}: {path}")
