"""Customers and their contacts: Uzbek names and +998 phone numbers with real operator prefixes."""

from __future__ import annotations

import random
from dataclasses import dataclass

from trastpay_sandbox.world.rng import digits, rng_for, stable_token

MALE_FIRST = (
    "Aziz",
    "Bobur",
    "Jasur",
    "Sardor",
    "Otabek",
    "Javlon",
    "Sherzod",
    "Rustam",
    "Dilshod",
    "Farrux",
    "Anvar",
    "Ulug'bek",
    "Shoxrux",
    "Doniyor",
    "Islom",
    "Jamshid",
    "Akmal",
    "Behzod",
    "Nodir",
    "Temur",
)
FEMALE_FIRST = (
    "Madina",
    "Dilnoza",
    "Gulnora",
    "Nilufar",
    "Zarina",
    "Malika",
    "Shahnoza",
    "Kamola",
    "Feruza",
    "Sevara",
    "Nodira",
    "Dildora",
    "Mohira",
    "Gulbahor",
    "Munisa",
    "Sabina",
    "Laylo",
    "Umida",
)
SURNAME_STEMS = (
    "Karimov",
    "Tursunov",
    "Rahimov",
    "Yusupov",
    "Abdullayev",
    "Ismoilov",
    "Mirzayev",
    "Nazarov",
    "Qodirov",
    "Saidov",
    "Xolmatov",
    "Aliyev",
    "Ergashev",
    "Sobirov",
    "Hamidov",
    "Jo'rayev",
    "Usmonov",
    "Toshmatov",
    "Rasulov",
    "Sultonov",
)
# Operator prefixes after +998 (Beeline, Ucell, Uzbektelecom, MobiUZ, Perfectum, HUMANS).
PHONE_PREFIXES = ("90", "91", "20", "93", "94", "50", "95", "99", "77", "97", "88", "87", "98", "33")


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    phone: str


def random_person(rng: random.Random) -> Person:
    female = rng.random() < 0.5
    first = rng.choice(FEMALE_FIRST if female else MALE_FIRST)
    surname = rng.choice(SURNAME_STEMS) + ("a" if female else "")
    phone = "+998" + rng.choice(PHONE_PREFIXES) + digits(rng, 7)
    return Person(name=f"{first} {surname}", phone=phone)


def make_customer_people(seed: int, count: int) -> list[tuple[str, Person]]:
    """``count`` customers ``(id, person)`` with unique phones, a pure function of the seed."""
    taken: set[str] = set()
    people: list[tuple[str, Person]] = []
    for index in range(count):
        attempt = 0
        while True:
            person = random_person(rng_for(seed, "customer", index, attempt))
            if person.phone not in taken:
                break
            attempt += 1
        taken.add(person.phone)
        people.append((stable_token("cus_", seed, "customer-id", index, length=12), person))
    return people
