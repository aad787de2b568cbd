"""Balance transactions, fees and payouts (a mixin of `store.Store`; it runs under the store lock).

Every movement of funds gets a ``balance_transaction``: a charge (gross amount, Stripe's fee by the
``fee_percent``/``fee_fixed_cents`` rule), a refund (negative, fee 0: Stripe keeps the original
fee), a dispute withdrawal and its reversal (``adjustment``s carrying the dispute fee), a payout
(negative) and a payout failure (the money coming back). A payout sweeps the available balance
transactions no payout has taken yet, oldest first, and `_bt_payout` remembers which payout took
each one so ``GET /v1/balance_transactions?payout=po_...`` can list them.
"""

from __future__ import annotations

import decimal
import math
import secrets
import time
from typing import TYPE_CHECKING, Any

from .common import Obj, matches_range, merge_metadata, money, now, start_of_day
from .events import RequestContext, new_id
from .forms import StripeError, invalid, require

if TYPE_CHECKING:
    from .store import Store

    _Base = Store
else:
    _Base = object

PAYOUT_FAILURES = {
    "account_closed": "The bank account has been closed.",
    "account_frozen": "The bank account has been frozen.",
    "bank_account_restricted": "The bank account has restrictions on either the type or number of payouts "
    "allowed.",
    "could_not_process": "The bank could not process this payout.",
    "insufficient_funds": "Your Stripe account has insufficient funds to cover the payout.",
    "invalid_account_number": "The routing number seems correct, but the account number is invalid.",
    "no_account": "The bank account details on file are probably incorrect. No bank account could be "
    "located with those details.",
}
INSUFFICIENT = (
    "You have insufficient funds in your Stripe account for this transfer. Your card balance is too low. "
    "You can use the /v1/balance endpoint to view your Stripe balance (for more details, see "
    "stripe.com/docs/api#balance)."
)


class BalanceMixin(_Base):
    """Balance transactions and payouts."""

    def __init__(self) -> None:
        self._balance_txns: list[Obj] = []  # oldest first
        self._pending_txns: list[tuple[float, Obj]] = []  # (available at, txn)
        self._bt_payout: dict[str, str] = {}  # txn id -> id of the payout that swept it
        self._payouts: list[Obj] = []  # oldest first
        self._bank_account = new_id("ba", 24)

    # ----------------------------------------------------------------- fees

    def fee_for(self, amount: int) -> int:
        """Stripe's processing fee on ``amount``: percent (rounded half up to the cent) + fixed."""
        percent = decimal.Decimal(amount) * decimal.Decimal(str(self.fee_percent)) / 100
        return (
            int(percent.quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP)) + self.fee_fixed_cents
        )

    # ------------------------------------------------------- balance transactions

    def _new_balance_transaction(
        self,
        amount: int,
        currency: str,
        source: str,
        type: str,
        reporting_category: str,
        description: str | None,
        *,
        fee: int = 0,
        fee_description: str = "Stripe processing fees",
    ) -> Obj:
        """Record a balance transaction; credits wait ``available_delay_seconds``, debits do not."""
        created = now()
        delay = self.available_delay_seconds if amount > 0 and type in ("charge", "adjustment") else 0
        available_at = time.time() + delay
        txn = {
            "id": new_id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": math.ceil(available_at) if delay else created,
            "balance_type": "payments",
            "created": created,
            "currency": currency,
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": (
                [
                    {
                        "amount": fee,
                        "application": None,
                        "currency": currency,
                        "description": fee_description,
                        "type": "stripe_fee",
                    }
                ]
                if fee
                else []
            ),
            "net": amount - fee,
            "reporting_category": reporting_category,
            "source": source,
            "status": "pending" if delay else "available",
            "type": type,
        }
        self.objects[txn["id"]] = txn
        self._balance_txns.append(txn)
        if delay:
            self._pending_txns.append((available_at, txn))
        return txn

    def _charge_balance_transaction(self, charge: Obj) -> Obj:
        amount = charge["amount_captured"]
        return self._new_balance_transaction(
            amount,
            charge["currency"],
            charge["id"],
            "charge",
            "charge",
            charge["description"],
            fee=self.fee_for(amount),
        )

    def _settle_balance(self, everything: bool = False) -> int:
        """Make pending transactions whose time has come (or all, if ``everything``) available."""
        moment, still, settled = time.time(), [], 0
        for available_at, txn in self._pending_txns:
            if everything or available_at <= moment:
                txn["status"] = "available"
                if everything:
                    txn["available_on"] = min(txn["available_on"], now())
                settled += 1
            else:
                still.append((available_at, txn))
        self._pending_txns = still
        return settled

    def settle_balance(self) -> int:
        """``POST /_standin/balance/settle``: make every pending transaction available now."""
        with self.lock:
            return self._settle_balance(everything=True)

    def list_balance_transactions(self, p: Obj) -> Obj:
        """``GET /v1/balance_transactions``: newest first; ``payout``, ``type``, ``source``,
        ``currency`` and ``created`` filters."""
        with self.lock:
            self._settle_balance()
            if p.get("payout"):
                self.get("payout", p["payout"], "payout", status=400)
            items = [
                t
                for t in reversed(self._balance_txns)
                if (not p.get("payout") or self._bt_payout.get(t["id"]) == p["payout"])
                and (not p.get("type") or t["type"] == p["type"])
                and (not p.get("source") or t["source"] == p["source"])
                and (not p.get("currency") or t["currency"] == p["currency"].lower())
                and matches_range(t["created"], p.get("created"))
            ]
            return self._list(items, p, "/v1/balance_transactions", "balance_transaction")

    def get_balance(self) -> Obj:
        """``GET /v1/balance``: available and pending sums per currency."""
        with self.lock:
            self._settle_balance()
            sums: dict[str, dict[str, int]] = {"available": {}, "pending": {}}
            for txn in self._balance_txns:
                bucket = sums[txn["status"]]
                bucket[txn["currency"]] = bucket.get(txn["currency"], 0) + txn["net"]
            currencies = sorted(set(sums["available"]) | set(sums["pending"])) or ["usd"]

            def funds(kind: str) -> list[Obj]:
                return [
                    {
                        "amount": sums[kind].get(c, 0),
                        "currency": c,
                        "source_types": {"card": sums[kind].get(c, 0)},
                    }
                    for c in currencies
                ]

            return {
                "object": "balance",
                "available": funds("available"),
                "connect_reserved": [],
                "livemode": False,
                "pending": funds("pending"),
                "refund_and_dispute_prefunding": {"available": [], "pending": []},
            }

    # ------------------------------------------------------------------ payouts

    def create_payout(self, p: Obj, ctx: RequestContext) -> Obj:
        """``POST /v1/payouts``: pay out ``amount`` (default: the whole available balance)."""
        require(p, "currency")
        currency = self._currency(p["currency"])
        descriptor = p.get("statement_descriptor")
        if descriptor is not None and len(descriptor) > 22:
            raise invalid(
                "Invalid statement_descriptor: must be at most 22 characters", "statement_descriptor"
            )
        with self.lock:
            self._settle_balance()
            available = sum(
                t["net"]
                for t in self._balance_txns
                if t["currency"] == currency and t["status"] == "available"
            )
            amount = p.get("amount", available)
            if "amount" in p and (amount is None or amount <= 0):
                raise invalid("Invalid positive integer", "amount", "parameter_invalid_integer")
            if amount <= 0 or amount > available:
                raise StripeError(
                    INSUFFICIENT + f" (available: {money(max(available, 0), currency)})",
                    code="balance_insufficient",
                    param="amount" if "amount" in p else None,
                )
            unswept = [
                t
                for t in self._balance_txns
                if t["id"] not in self._bt_payout
                and t["currency"] == currency
                and t["status"] == "available"
                and t["type"] != "payout"
            ]
            # Whatever earlier partial payouts took beyond what they swept is owed by these.
            budget = amount + sum(t["net"] for t in unswept) - available
            # The oldest-first run whose sum comes closest to the budget without passing it
            # (the longest such run on a tie): everything, when paying out the whole balance.
            best, total = (0, 0), 0
            for count, txn in enumerate(unswept, 1):
                total += txn["net"]
                if total <= budget and (total, count) >= best:
                    best = (total, count)
            swept = unswept[: best[1]]
            created = now()
            payout_id = new_id("po")
            payout = {
                "id": payout_id,
                "object": "payout",
                "amount": amount,
                "application_fee": None,
                "application_fee_amount": None,
                "arrival_date": start_of_day(created),
                "automatic": False,
                "balance_transaction": None,
                "created": created,
                "currency": currency,
                "description": p.get("description") or "STRIPE PAYOUT",
                "destination": self._bank_account,
                "failure_balance_transaction": None,
                "failure_code": None,
                "failure_message": None,
                "livemode": False,
                "metadata": merge_metadata({}, p.get("metadata")),
                "method": "standard",
                "original_payout": None,
                "payout_method": None,
                "reconciliation_status": "completed",
                "reversed_by": None,
                "source_type": "card",
                "statement_descriptor": descriptor,
                "status": "pending",
                "trace_id": {"status": "pending", "value": None},
                "type": "bank_account",
            }
            self.objects[payout_id] = payout
            self._payouts.append(payout)
            own = self._new_balance_transaction(
                -amount, currency, payout_id, "payout", "payout", payout["description"]
            )
            payout["balance_transaction"] = own["id"]
            for txn in [*swept, own]:
                self._bt_payout[txn["id"]] = payout_id
            self._emit("payout.created", payout, ctx)
            payout.update(
                status="paid", trace_id={"status": "supported", "value": f"{secrets.randbelow(10**15):015d}"}
            )
            self._emit("payout.paid", payout, ctx, {"status": "pending"})
            return payout

    def list_payouts(self, p: Obj) -> Obj:
        """``GET /v1/payouts``: newest first; ``created``, ``arrival_date`` and ``status`` filters."""
        with self.lock:
            items = [
                po
                for po in reversed(self._payouts)
                if matches_range(po["created"], p.get("created"))
                and matches_range(po["arrival_date"], p.get("arrival_date"))
                and (not p.get("status") or po["status"] == p["status"])
            ]
            return self._list(items, p, "/v1/payouts", "payout")

    def fail_payout(self, payout_id: str, failure_code: str | None = None) -> Obj:
        """``POST /_standin/payouts/{id}/fail``: the bank returned the payout; its money comes back
        to the balance as a ``payout_failure`` transaction (swept by the next payout)."""
        code = failure_code or "account_closed"
        if code not in PAYOUT_FAILURES:
            raise invalid(f"Unknown failure_code {code!r}; one of: {', '.join(sorted(PAYOUT_FAILURES))}")
        with self.lock:
            payout = self.get("payout", payout_id)
            if payout["status"] not in ("pending", "in_transit", "paid"):
                raise invalid(f"Payout {payout_id} is {payout['status']} and cannot fail.")
            refund = self._new_balance_transaction(
                payout["amount"],
                payout["currency"],
                payout_id,
                "payout_failure",
                "payout_reversal",
                f"Payout failure ({code})",
            )
            previous: dict[str, Any] = {
                "status": payout["status"],
                "failure_code": None,
                "failure_message": None,
                "failure_balance_transaction": None,
            }
            payout.update(
                status="failed",
                failure_code=code,
                failure_message=PAYOUT_FAILURES[code],
                failure_balance_transaction=refund["id"],
            )
            self._emit("payout.failed", payout, None, previous)
            return payout
