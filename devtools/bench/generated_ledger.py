"""A ledger of wide contributions generated as it is read, for measuring exports at scale.

It holds nothing, so the memory an export takes while reading it is the export's own: the
benchmark (`devtools/bench/export_scale.py`) and tests/integration/test_exports_scale.py feed
the real export code with it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date, datetime, timedelta, timezone

from chalicelib.exports.model import DonationFacts, DonorFacts, LedgerMovement

FIRST_DAY = date(2025, 1, 2)
COMMITTEE = "C00900001"
DONORS = 1000
CENTS = 2500


def when(day: int, n: int) -> datetime:
    """The n-th contribution of a day: 80 s apart, 1,000 in a day."""
    start = datetime.combine(FIRST_DAY, datetime.min.time(), timezone.utc)
    return start + timedelta(days=day, seconds=n * 80)


def donor_facts(donor: int) -> DonorFacts:
    """A donor whose every field is near the 200 characters intake allows."""
    return DonorFacts(
        first_name=f"María José Guadalupe {donor}", last_name="Núñez-Hernández de la Fuente y Olavarrieta",
        email=f"maria.jose.guadalupe.nunez.hernandez.{donor}@cooperativa-del-valle-central.example.org",
        address_line1=(f"{donor} Avenida de los Insurgentes Sur, Colonia del Valle Centro, "
                       "Alcaldía Benito Juárez, entre Calle Eugenia y Calle Pilares, frente al Parque"),
        address_line2="Apartamento 1204, Torre Norte, Edificio Las Palmas, Entrada B, Interior 3, Piso 12",
        city="San José del Cabo", state="CA", zip="951121234",
        employer=("Cooperativa de Trabajadores Unidos del Valle Central de California, Sociedad "
                  "Cooperativa de Responsabilidad Limitada de Capital Variable, Sucursal Norte"),
        occupation=("Ingeniera de Sistemas y Coordinadora de Proyectos de Infraestructura Hidráulica "
                    "y Energías Renovables para Comunidades Rurales"))


class GeneratedLedger:
    """`days` days of `per_day` contributions of $25 by 1,000 donors (each one a day, so every
    donor crosses $200 on day 9 and is itemized from then on)."""

    def __init__(self, days: int, per_day: int = DONORS) -> None:
        self.days = days
        self.per_day = per_day

    def movements(self, committee_id: str, start: datetime, end: datetime) -> Iterator[LedgerMovement]:
        for day in range(self.days):
            for n in range(self.per_day):
                at = when(day, n)
                if start <= at < end:
                    yield LedgerMovement(f"evt_{day}_{n}#contribution", "contribution", CENTS, at,
                                         f"don_{day}_{n}", f"dnr_{n % DONORS}", committee_id, "P2026",
                                         "big", f"evt_{day}_{n}")

    def donations(self, donation_ids: Collection[str]) -> dict[str, DonationFacts]:
        found = {}
        for donation_id in donation_ids:
            _, day, n = donation_id.split("_")
            found[donation_id] = DonationFacts(donation_id, donor_facts(int(n) % DONORS), CENTS, 0,
                                               "succeeded", "P2026", "big", f"pi_{day}_{n}",
                                               f"ch_{day}_{n}", refcode="spring-email")
        return found

    def committee_ids(self) -> list[str]:
        return [COMMITTEE]
