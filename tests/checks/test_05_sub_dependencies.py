"""Hidden checks for exercise 05, sub-dependencies: clinics that share patients.

A practitioner picks one of their clinics in the path; the membership dependency refuses outsiders
(404, like a clinic that does not exist) and suspended members (403); a patient is readable by its
home clinic and by the clinics it is shared with, writable only at home; a visit is found only
under its own patient. Besides the given clinics, each grade adds a fourth clinic, a practitioner
with an active and a suspended membership, patients, shares and visits, all made up from its seed.
A differential check then drives the learner's app and the reference with the same sequences of
requests, suspensions, removed memberships and withdrawn shares (book.grader.differential).
"""

from dataclasses import dataclass
from random import Random
from typing import Any

import anyio.from_thread
from httpx import AsyncClient, Response
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "05-sub-dependencies"

# The given data, as the notebook seeds it: the model the answers are compared with.
GIVEN_STAFF = {"osei": {1: False, 2: False}, "lind": {2: False, 3: True}, "park": {3: False}}
GIVEN_PATIENTS = {
    1: ("Mira Kovac", 1, ()),
    2: ("Tom Reyes", 2, ()),
    3: ("Aiko Sato", 1, (3,)),
    4: ("Ben Hale", 3, (1,)),
    5: ("Lea Brandt", 2, (1,)),
    6: ("Omar Haddad", 3, ()),
}
GIVEN_VISITS = {
    1: (1, "Annual check-up"),
    2: (2, "Sprained ankle"),
    3: (3, "Flu jab"),
    4: (1, "Blood test"),
    5: (4, "Allergy review"),
    6: (5, "Knee X-ray"),
    7: (6, "Eye test"),
    8: (3, "Follow-up"),
}
CLINIC_NAMES = ["Riverside", "Elm Park", "Bayview", "Southgate", "Meadowbank", "Kingsway"]
LOGINS = ["achebe", "moreau", "tanaka", "novak", "silva", "okafor"]
PATIENT_NAMES = [
    "Ines Duarte",
    "Karl Brandt",
    "Noor Aziz",
    "Sven Olsen",
    "Ruth Adler",
    "Yusuf Demir",
    "Hana Mori",
    "Luca Ferri",
    "Ada Nwosu",
    "Iris Vogel",
]
NOTES = [
    "Blood pressure",
    "Stitches out",
    "Vaccination",
    "Physio review",
    "Rash",
    "Dressing change",
    "Hearing test",
    "Prescription renewal",
]
NEW_CLINIC = 4


@dataclass
class World:
    """Who works where, which patients each clinic may read, and the visits: the grade's model."""

    staff: dict[str, dict[int, bool]]  # login: {clinic: suspended?}
    tokens: dict[str, str]
    patients: dict[int, tuple[str, int, set[int]]]  # id: (name, home clinic, clinics shared with)
    visits: dict[int, tuple[int, str]]  # id: (patient, note)
    newcomer: str = ""
    suspended_at: int = 0  # the given clinic where the newcomer's membership is suspended

    def headers(self, login: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[login]}"}

    def clinics(self) -> list[int]:
        return sorted({clinic for places in self.staff.values() for clinic in places})

    def member(self, clinic: int, *, besides: str = "") -> str:
        """A login with an active membership at `clinic` (the first, by name)."""
        return sorted(
            login for login, places in self.staff.items() if places.get(clinic) is False and login != besides
        )[0]

    def readable(self, clinic: int) -> list[int]:
        return sorted(pid for pid, (_, home, shared) in self.patients.items() if clinic == home or clinic in shared)

    def hidden(self, clinic: int) -> list[int]:
        return sorted(set(self.patients) - set(self.readable(clinic)))

    def own(self, clinic: int) -> list[int]:
        return sorted(pid for pid, (_, home, _) in self.patients.items() if home == clinic)

    def listing(self, clinic: int) -> list[dict[str, Any]]:
        return [
            {"id": pid, "name": self.patients[pid][0], "read_only": self.patients[pid][1] != clinic}
            for pid in self.readable(clinic)
        ]

    def visits_of(self, pid: int) -> list[int]:
        return sorted(vid for vid, (owner, _) in self.visits.items() if owner == pid)

    def chart(self, clinic: int, pid: int) -> dict[str, Any]:
        name, home, _ = self.patients[pid]
        return {"id": pid, "name": name, "read_only": home != clinic, "visits": self.visits_of(pid)}

    def stored(self) -> list[list[Any]]:
        return sorted([vid, owner, note] for vid, (owner, note) in self.visits.items())


def given_world() -> World:
    return World(
        {login: dict(places) for login, places in GIVEN_STAFF.items()},
        {login: f"{login}-demo-key" for login in GIVEN_STAFF},
        {pid: (name, home, set(shared)) for pid, (name, home, shared) in GIVEN_PATIENTS.items()},
        dict(GIVEN_VISITS),
    )


@agent_side
async def extend(ctx: "Any", added: "dict[str, list[Any]]") -> None:
    """Seed the grade's clinic, practitioner, memberships, patients, shares and visits."""
    from sqlalchemy import select

    nb = ctx.nb
    async with nb.Sessions() as session:
        for key, title in added["clinics"]:
            session.add(nb.Clinic(id=key, title=title))
        for login, token in added["practitioners"]:
            session.add(nb.Practitioner(login=login, token_digest=nb.digest(token)))
        await session.flush()
        ids = {who.login: who.id for who in await session.scalars(select(nb.Practitioner))}
        for login, clinic, suspended in added["memberships"]:
            session.add(nb.Membership(practitioner_id=ids[login], clinic_id=clinic, suspended=suspended))
        for key, name, home in added["patients"]:
            session.add(nb.Patient(id=key, home_clinic_id=home, full_name=name))
        for patient, clinic in added["shares"]:
            session.add(nb.Share(patient_id=patient, clinic_id=clinic))
        for key, patient, note in added["visits"]:
            session.add(nb.Visit(id=key, patient_id=patient, note=note))
        await session.commit()


@agent_side
async def set_membership(ctx: "Any", login: str, clinic: int, state: str) -> None:
    """Make `login`'s membership at `clinic` "active", "suspended" or "none" (removed), in the database."""
    from sqlalchemy import select

    nb = ctx.nb
    async with nb.Sessions() as session:
        who = await session.scalar(select(nb.Practitioner).where(nb.Practitioner.login == login))
        found = await session.get(nb.Membership, (who.id, clinic))
        if state == "none":
            if found is not None:
                await session.delete(found)
        elif found is None:
            session.add(nb.Membership(practitioner_id=who.id, clinic_id=clinic, suspended=state == "suspended"))
        else:
            found.suspended = state == "suspended"
        await session.commit()


@agent_side
async def set_share(ctx: "Any", patient: int, clinic: int, shared: bool) -> None:
    """Share patient `patient` with `clinic`, or withdraw that share, in the database."""
    nb = ctx.nb
    async with nb.Sessions() as session:
        found = await session.get(nb.Share, (patient, clinic))
        if shared and found is None:
            session.add(nb.Share(patient_id=patient, clinic_id=clinic))
        elif not shared and found is not None:
            await session.delete(found)
        await session.commit()


@agent_side
async def stored_visits(ctx: "Any") -> "list[list[Any]]":
    """Every visit in the database, as [id, patient id, note], by id."""
    from sqlalchemy import select

    nb = ctx.nb
    async with nb.Sessions() as session:
        return [
            [visit.id, visit.patient_id, visit.note]
            for visit in await session.scalars(select(nb.Visit).order_by(nb.Visit.id))
        ]


@agent_side
async def practitioner(ctx: "Any", login: str) -> "Any":
    """The Practitioner row of `login`, loaded with the notebook's session factory (it stays in the agent)."""
    from sqlalchemy import select

    nb = ctx.nb
    async with nb.Sessions() as session:
        return await session.scalar(select(nb.Practitioner).where(nb.Practitioner.login == login))


@agent_side
async def active_membership(ctx: "Any", login: str, clinic: int) -> "Any":
    """An active Membership of `login` at `clinic`, made in memory (the database is not changed)."""
    from sqlalchemy import select

    nb = ctx.nb
    async with nb.Sessions() as session:
        who = await session.scalar(select(nb.Practitioner).where(nb.Practitioner.login == login))
    return nb.Membership(practitioner_id=who.id, clinic_id=clinic, suspended=False)


async def made_up(nb: Notebook, rng: Random) -> World:
    """The given world and this grade's additions, seeded into the notebook's database."""
    world = given_world()
    login = rng.choice(LOGINS)
    token = f"{login}-{rng.getrandbits(64):016x}"
    works_at, suspended_at = rng.sample([1, 2, 3], 2)
    guest = rng.choice(sorted(GIVEN_STAFF))  # a given practitioner who also joins the new clinic
    names = rng.sample(PATIENT_NAMES, 3)
    pids = sorted(rng.sample(range(20, 90), 3))
    shared_out = rng.choice(pids)  # a new patient shared with a given clinic
    reader = rng.choice([1, 2, 3])
    shared_in = rng.choice(sorted(GIVEN_PATIENTS))  # a given patient shared with the new clinic
    vids = sorted(rng.sample(range(100, 400), 2 * len(pids)))
    memberships = [
        (login, NEW_CLINIC, False),
        (login, works_at, False),
        (login, suspended_at, True),
        (guest, NEW_CLINIC, False),
    ]
    patients = [[pid, name, NEW_CLINIC] for pid, name in zip(pids, names, strict=True)]
    added: dict[str, list[Any]] = {
        "clinics": [[NEW_CLINIC, rng.choice(CLINIC_NAMES)]],
        "practitioners": [[login, token]],
        "memberships": memberships,
        "patients": patients,
        "shares": [[shared_out, reader], [shared_in, NEW_CLINIC]],
        "visits": [[vid, pids[index // 2], rng.choice(NOTES)] for index, vid in enumerate(vids)],
    }
    await nb.call(extend, added)
    world.tokens[login] = token
    world.newcomer, world.suspended_at = login, suspended_at
    for who, clinic, suspended in memberships:
        world.staff.setdefault(who, {})[clinic] = suspended
    for pid, name in zip(pids, names, strict=True):
        world.patients[pid] = (name, NEW_CLINIC, {reader} if pid == shared_out else set())
    world.patients[shared_in][2].add(NEW_CLINIC)
    for vid, pid, note in added["visits"]:
        world.visits[vid] = (pid, note)
    return world


def path(clinic: int, patient: int | None = None, visit: int | None = None) -> str:
    text = f"/clinics/{clinic}/patients"
    if patient is not None:
        text += f"/{patient}"
        if visit is not None:
            text += f"/visits/{visit}"
    return text


ROUTES = ("list", "read", "add", "visit", "delete")


async def send(
    client: AsyncClient,
    route: str,
    clinic: int,
    patient: int,
    visit: int | None,
    headers: dict[str, str],
    note: str = "Seen",
) -> tuple[Response, str]:
    """One request of `route` ("list", "read", "add", "visit", "delete"); (response, what was called)."""
    if route == "list":
        target, method, body = path(clinic), "GET", None
    elif route == "read":
        target, method, body = path(clinic, patient), "GET", None
    elif route == "add":
        target, method, body = path(clinic, patient) + "/visits", "POST", {"note": note}
    else:
        target, method, body = path(clinic, patient, visit), "GET" if route == "visit" else "DELETE", None
    response = await client.request(method, target, json=body, headers=headers)
    return response, f"{method} {target}" + (f" {body}" if body else "")


async def expect_no_change(nb: Notebook, world: World, what: str) -> None:
    stored = await nb.call(stored_visits)
    expect(
        stored == world.stored(),
        called=f"the visits in the database, after {what}",
        got=stored,
        expected=f"unchanged: {world.stored()}",
    )


@check(
    points=2,
    hint="""Each clinic lists its own patients and the patients shared with it, by id,
    read_only telling which is which; the practitioner works at several clinics and the path says which
    one. Where does the list get its clinic from?""",
    see="05-sub-dependencies.ipynb#the-organisation-derived",
)
async def test_each_clinic_lists_its_own_and_its_shared_patients(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    world = await made_up(nb, rng)
    for login in sorted(world.staff):
        for clinic, suspended in sorted(world.staff[login].items()):
            if not suspended:
                expect_response(
                    await client.get(path(clinic), headers=world.headers(login)),
                    status=200,
                    json=world.listing(clinic),
                    called=f"GET {path(clinic)} as {login}",
                )


@check(
    points=2,
    hint="""A patient's record, and each of its visits, can be read at its home clinic
    (read_only false) and at every clinic it is shared with (read_only true); "visits" lists the ids of
    the patient's visits in ascending order. What does the patient validator ask the database, and does
    the query count the shares?""",
    see="05-sub-dependencies.ipynb#a-validator-the-project-or-404",
)
async def test_records_are_read_at_home_and_where_shared(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    world = await made_up(nb, rng)
    for clinic in world.clinics():
        login = world.member(clinic)
        for pid in world.readable(clinic):
            expect_response(
                await client.get(path(clinic, pid), headers=world.headers(login)),
                status=200,
                json=world.chart(clinic, pid),
                called=f"GET {path(clinic, pid)} as {login}",
            )
            for vid in world.visits_of(pid):
                expect_response(
                    await client.get(path(clinic, pid, vid), headers=world.headers(login)),
                    status=200,
                    json={"id": vid, "note": world.visits[vid][1]},
                    called=f"GET {path(clinic, pid, vid)} as {login}",
                )


@check(
    points=3,
    hint="""A patient the clinic may not read must get exactly the answer a patient that does
    not exist gets, on every route under it, reading or writing: 404 with the same body. Ask the
    database for "this patient, readable by this clinic" in one go, and refuse the same way whenever
    that finds nothing.""",
    see="05-sub-dependencies.ipynb#pitfall-403-for-someone-elses-data-leaks-that-it-exists",
)
async def test_a_hidden_patient_answers_like_a_missing_one(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    world = await made_up(nb, rng)
    missing = rng.randint(500, 999)
    for clinic in world.clinics():
        login = world.member(clinic)
        mine = rng.choice(world.own(clinic))
        expect_response(
            await client.get(path(clinic, mine), headers=world.headers(login)),
            status=200,
            json=world.chart(clinic, mine),
            called=f"GET {path(clinic, mine)} as {login}",
        )
        hidden = rng.sample(world.hidden(clinic), 2)
        for route in ROUTES[1:]:
            absent, _ = await send(client, route, clinic, missing, missing, world.headers(login))
            for pid in hidden:
                visit = world.visits_of(pid)[0]
                foreign, called = await send(client, route, clinic, pid, visit, world.headers(login))
                expect(
                    foreign.status_code == 404 and foreign.content == absent.content,
                    called=f"{called} as {login} (patient {pid} is not readable by clinic {clinic})",
                    got=f"{foreign.status_code} {foreign.text}",
                    expected=f"what patient {missing}, which does not exist, gets: "
                    f"{absent.status_code} {absent.text}, and 404",
                )
    await expect_no_change(nb, world, "adding and deleting visits of patients the clinics may not read")


@check(
    points=2,
    hint="""A practitioner may only work at the clinics where they have a membership: any
    other clinic must answer like a clinic that does not exist (404, same body), on every route,
    before any patient is looked at. Does every route, the patient and visit ones too, go through
    clinic_membership?""",
    see="05-sub-dependencies.ipynb#the-organisation-derived",
)
async def test_only_the_callers_own_clinics_are_open_to_them(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    world = await made_up(nb, rng)
    nowhere = rng.randint(50, 99)
    for login in sorted(world.staff):
        outside = sorted(set(world.clinics()) - set(world.staff[login]))
        clinic = rng.choice(outside)
        pid = rng.choice(world.own(clinic))
        visit = world.visits_of(pid)[0]
        for route in ROUTES:
            absent, _ = await send(client, route, nowhere, pid, visit, world.headers(login))
            refused, called = await send(client, route, clinic, pid, visit, world.headers(login))
            expect(
                refused.status_code == 404 and refused.content == absent.content,
                called=f"{called} as {login} (no membership at clinic {clinic})",
                got=f"{refused.status_code} {refused.text}",
                expected=f"what clinic {nowhere}, which does not exist, gets: "
                f"{absent.status_code} {absent.text}, and 404",
            )
    await expect_no_change(nb, world, "requests at clinics where the callers have no membership")


@check(
    points=2,
    hint="""A suspended membership is refused with 403 on every route of that clinic, even
    for a patient that does not exist, and memberships change while the app runs: a suspension, a
    reinstatement or a removal counts from the next request. Is the membership checked before the
    patient, and read afresh for every request?""",
    see="04-role-checks.ipynb#a-dependency-that-takes-arguments",
)
async def test_a_suspended_membership_is_refused_from_the_next_request(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    world = await made_up(nb, rng)
    missing = rng.randint(500, 999)

    async def all_refused(login: str, clinic: int, why: str) -> None:
        pid = rng.choice(world.own(clinic))
        visit = world.visits_of(pid)[0]
        for route in ROUTES:
            for patient in (pid, missing):
                response, called = await send(client, route, clinic, patient, visit, world.headers(login))
                expect_response(response, status=403, called=f"{called} as {login} ({why})")

    for login, clinic in (("lind", 3), (world.newcomer, world.suspended_at)):
        await all_refused(login, clinic, f"suspended at clinic {clinic}")
        other = min(place for place, off in world.staff[login].items() if not off)
        expect_response(
            await client.get(path(other), headers=world.headers(login)),
            status=200,
            json=world.listing(other),
            called=f"GET {path(other)} as {login}, active there",
        )
    login = world.newcomer
    listing = path(NEW_CLINIC)
    expect_response(
        await client.get(listing, headers=world.headers(login)),
        status=200,
        json=world.listing(NEW_CLINIC),
        called=f"GET {listing} as {login}",
    )
    await nb.call(set_membership, login, NEW_CLINIC, "suspended")
    await all_refused(login, NEW_CLINIC, f"suspended at clinic {NEW_CLINIC} since the last request")
    await nb.call(set_membership, login, NEW_CLINIC, "active")
    expect_response(
        await client.get(listing, headers=world.headers(login)),
        status=200,
        json=world.listing(NEW_CLINIC),
        called=f"GET {listing} as {login}, reinstated",
    )
    await nb.call(set_membership, login, NEW_CLINIC, "none")
    expect_response(
        await client.get(listing, headers=world.headers(login)),
        status=404,
        called=f"GET {listing} as {login}, whose membership has just been removed",
    )
    await expect_no_change(nb, world, "requests by suspended members")


@check(
    points=2,
    hint="""A clinic a record is only shared with may read it but never add or delete its
    visits: 403, whatever the visit id, and nothing changes; the home clinic may. A practitioner
    who also works at the home clinic is still read-only in the shared one: what counts is the
    clinic in the path. Withdrawing a share hides the record at the next request.""",
    see="05-sub-dependencies.ipynb#a-validator-the-project-or-404",
)
async def test_a_shared_record_is_read_only(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    world = await made_up(nb, rng)
    missing = rng.randint(500, 999)
    shares = sorted((pid, reader) for pid, (_, _, readers) in world.patients.items() for reader in readers)
    for pid, reader in shares:
        login = "osei" if (pid, reader) == (5, 1) else world.member(reader)
        for target, wanted in ((path(reader), world.listing(reader)), (path(reader, pid), world.chart(reader, pid))):
            expect_response(
                await client.get(target, headers=world.headers(login)),
                status=200,
                json=wanted,
                called=f"GET {target} as {login}",
            )
        for visit in (world.visits_of(pid)[0], missing):
            for route in ("add", "delete"):
                response, called = await send(client, route, reader, pid, visit, world.headers(login))
                expect_response(
                    response,
                    status=403,
                    called=f"{called} as {login} (patient {pid} is only shared with clinic {reader})",
                )
    await expect_no_change(nb, world, "writes refused at the clinics the records are shared with")
    pid, reader = rng.choice(shares)
    home = world.patients[pid][1]
    writer, reading = world.member(home), world.member(reader)
    note = rng.choice(NOTES)
    added, called = await send(client, "add", home, pid, 0, world.headers(writer), note=note)
    expect_response(added, status=201, called=f"{called} as {writer}, at the patient's home clinic")
    new = added.json().get("id") if isinstance(added.json(), dict) else None
    expect(
        added.json() == {"id": new, "note": note} and isinstance(new, int) and new not in world.visits,
        called=called,
        got=added.text,
        expected=f'{{"id": <a new id>, "note": "{note}"}}',
    )
    seen = await client.get(path(reader, pid, new), headers=world.headers(reading))
    expect_response(
        seen,
        status=200,
        json={"id": new, "note": note},
        called=f"GET {path(reader, pid, new)} as {reading}, after {writer} added it",
    )
    gone, called = await send(client, "delete", home, pid, new, world.headers(writer))
    expect_response(gone, status=204, called=f"{called} as {writer}, at the patient's home clinic")
    expect_response(
        await client.get(path(reader, pid, new), headers=world.headers(reading)),
        status=404,
        called=f"GET {path(reader, pid, new)} as {reading}, after {writer} deleted it",
    )
    await nb.call(set_share, pid, reader, False)
    world.patients[pid][2].discard(reader)
    expect_response(
        await client.get(path(reader, pid), headers=world.headers(reading)),
        status=404,
        called=f"GET {path(reader, pid)} as {reading}, the share withdrawn since the last request",
    )
    expect_response(
        await client.get(path(reader), headers=world.headers(reading)),
        status=200,
        json=world.listing(reader),
        called=f"GET {path(reader)} as {reading}, the share withdrawn",
    )


@check(
    points=2,
    hint="""A visit is found only under its own patient: the id of another patient's visit,
    even one the clinic may read, answers like a visit that does not exist (404, same body), and
    deleting it that way deletes nothing. The visit validator builds on the patient validator:
    does it compare the two?""",
    see="05-sub-dependencies.ipynb#a-validator-the-project-or-404",
)
async def test_a_visit_is_found_only_under_its_own_patient(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    world = await made_up(nb, rng)
    missing = rng.randint(500, 999)
    for clinic in world.clinics():
        login = world.member(clinic)
        under = rng.choice(world.own(clinic))
        own = rng.choice(world.visits_of(under))
        expect_response(
            await client.get(path(clinic, under, own), headers=world.headers(login)),
            status=200,
            json={"id": own, "note": world.visits[own][1]},
            called=f"GET {path(clinic, under, own)} as {login} (a visit of that patient)",
        )
        others = [vid for pid in world.readable(clinic) if pid != under for vid in world.visits_of(pid)]
        hidden = [vid for pid in world.hidden(clinic) for vid in world.visits_of(pid)]
        for route in ("visit", "delete"):
            absent, _ = await send(client, route, clinic, under, missing, world.headers(login))
            for visit in [*rng.sample(others, min(2, len(others))), rng.choice(hidden)]:
                wrong, called = await send(client, route, clinic, under, visit, world.headers(login))
                expect(
                    wrong.status_code == 404 and wrong.content == absent.content,
                    called=f"{called} as {login} (visit {visit} is patient {world.visits[visit][0]}'s)",
                    got=f"{wrong.status_code} {wrong.text}",
                    expected=f"what visit {missing}, which does not exist, gets: "
                    f"{absent.status_code} {absent.text}, and 404",
                )
    await expect_no_change(nb, world, "visits asked for under another patient")


@check(
    points=2,
    hint="""The caller must come from CurrentPractitioner and the clinic from
    clinic_membership on every route, so that replacing either (app.dependency_overrides) changes
    what every route sees. Does one route look the membership, or the token, up by itself?""",
    see="10-testing-overrides.ipynb#fixtures",
)
async def test_the_caller_and_the_membership_come_from_their_dependencies(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    world = await made_up(nb, rng)
    login = world.newcomer
    await nb.override_value("current_practitioner", await nb.call(practitioner, login))
    pid = rng.choice(world.readable(NEW_CLINIC))
    for target, wanted in (
        (path(NEW_CLINIC), world.listing(NEW_CLINIC)),
        (path(NEW_CLINIC, pid), world.chart(NEW_CLINIC, pid)),
    ):
        expect_response(
            await client.get(target),
            status=200,
            json=wanted,
            called=f"GET {target} without a token, current_practitioner overridden to {login}",
            seen=await nb.graph("GET /clinics/{clinic_id}/patients"),
        )
    await nb.clear_overrides()
    await nb.override_value("clinic_membership", await nb.call(active_membership, "lind", 3))
    why = "lind is suspended at clinic 3, clinic_membership overridden to an active membership there"
    headers = world.headers("lind")
    for target, wanted in (
        (path(3), world.listing(3)),
        (path(3, 4), world.chart(3, 4)),
        (path(3, 3, 3), {"id": 3, "note": world.visits[3][1]}),
    ):
        expect_response(
            await client.get(target, headers=headers), status=200, json=wanted, called=f"GET {target} as lind ({why})"
        )
    added, called = await send(client, "add", 3, 6, 0, headers, note="Overridden")
    expect_response(added, status=201, called=f"{called} as lind ({why})")
    gone, called = await send(client, "delete", 3, 6, 7, headers)
    expect_response(gone, status=204, called=f"{called} as lind ({why})")


@check(
    points=2,
    hint="""One request, one session, one caller and one membership: every validator and the
    endpoint share what FastAPI resolved once for the request. What makes FastAPI call a dependency a
    second time in the same request?""",
    see="05-sub-dependencies.ipynb#the-graph-and-the-one-session-in-it",
)
async def test_one_session_and_one_membership_per_request(nb: Notebook, rng: Random) -> None:
    headers = {"Authorization": "Bearer osei-demo-key"}
    own = rng.choice([2, 5])
    visit = {2: 2, 5: 6}[own]
    for method, target, body in (
        ("GET", path(2), None),
        ("GET", path(2, own), None),
        ("POST", path(2, own) + "/visits", {"note": "Traced"}),
        ("GET", path(2, own, visit), None),
        ("DELETE", path(2, own, visit), None),
    ):
        trace = await nb.trace(method, target, headers=headers, json=body)
        counts = {name: trace.calls(name) for name in ("get_db", "current_practitioner", "clinic_membership")}
        expect(
            trace.status is not None and trace.status < 300 and set(counts.values()) == {1},
            called=f"{method} {target} as osei, traced",
            got=f"status {trace.status}, calls {counts}",
            expected="a success, each of them called once",
            seen=trace.text,
        )


@agent_side
async def visit_rows(ctx: "Any") -> "list[list[Any]]":
    """Every visit in the database, as [id, patient id, note], by id (the state both apps must agree on)."""
    from sqlalchemy import select

    nb = ctx.nb
    async with nb.Sessions() as session:
        return [
            [visit.id, visit.patient_id, visit.note]
            for visit in await session.scalars(select(nb.Visit).order_by(nb.Visit.id))
        ]


WHO = sorted(GIVEN_STAFF)
CLINIC = st.integers(1, 4)  # 4 does not exist in the given data
PATIENT = st.integers(1, 7)  # 7 does not exist
VISIT = st.integers(1, 11)  # 9 and up only once added


class Clinics(Machine):
    """Any sequence of reads and writes by members, suspended members and outsiders, while
    memberships and shares change, as the reference answers it: statuses, bodies and the visits."""

    def _as(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {who}-demo-key"}

    @rule(who=st.sampled_from(WHO), clinic=CLINIC)
    def list_patients(self, who: str, clinic: int) -> None:
        self.same(*self.send("GET", path(clinic), headers=self._as(who)))

    @rule(who=st.sampled_from(WHO), clinic=CLINIC, patient=PATIENT)
    def read_patient(self, who: str, clinic: int, patient: int) -> None:
        self.same(*self.send("GET", path(clinic, patient), headers=self._as(who)))

    @rule(who=st.sampled_from(WHO), clinic=CLINIC, patient=PATIENT, valid=st.booleans())
    def add_visit(self, who: str, clinic: int, patient: int, valid: bool) -> None:
        note = {"note": "Seen again" if valid else ""}
        self.same(*self.send("POST", path(clinic, patient) + "/visits", json=note, headers=self._as(who)))

    @rule(who=st.sampled_from(WHO), clinic=CLINIC, patient=PATIENT, visit=VISIT)
    def read_visit(self, who: str, clinic: int, patient: int, visit: int) -> None:
        self.same(*self.send("GET", path(clinic, patient, visit), headers=self._as(who)))

    @rule(who=st.sampled_from(WHO), clinic=CLINIC, patient=PATIENT, visit=VISIT)
    def delete_visit(self, who: str, clinic: int, patient: int, visit: int) -> None:
        self.same(*self.send("DELETE", path(clinic, patient, visit), headers=self._as(who)))

    @rule(who=st.sampled_from(WHO), clinic=st.integers(1, 3), state=st.sampled_from(["active", "suspended", "none"]))
    def change_membership(self, who: str, clinic: int, state: str) -> None:
        self.step(f"{who}'s membership at clinic {clinic} made {state} in the database")
        self.call(lambda nb: nb.call(set_membership, who, clinic, state))

    @rule(patient=st.integers(1, 6), clinic=st.integers(1, 3), shared=st.booleans())
    def change_share(self, patient: int, clinic: int, shared: bool) -> None:
        if GIVEN_PATIENTS[patient][1] == clinic:
            return  # a home clinic is not shared with itself
        self.step(f"patient {patient} {'shared with' if shared else 'no longer shared with'} clinic {clinic}")
        self.call(lambda nb: nb.call(set_share, patient, clinic, shared))

    @rule(token=st.sampled_from(["", "not-a-token"]), clinic=CLINIC)
    def stranger(self, token: str, clinic: int) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.same(*self.send("GET", path(clinic), headers=headers), headers=("www-authenticate",))

    @rule(visit=VISIT)
    def at_once(self, visit: int) -> None:
        """Several callers at once, each on other records: the answers do not depend on the order."""
        calls = [
            ("GET", path(1, 5), "osei", None),
            ("GET", path(2, 5), "osei", None),
            ("GET", path(1), "osei", None),
            ("GET", path(3, 4), "park", None),
            ("GET", path(2, 2), "lind", None),
            ("POST", path(1, 1) + "/visits", "osei", {"note": "Busy day"}),
            ("DELETE", path(3, 6, visit), "park", None),
        ]
        self.step("at once: " + ", ".join(f"{method} {target} as {who}" for method, target, who, _ in calls))

        async def burst(client: AsyncClient) -> list[Response]:
            import asyncio

            return await asyncio.gather(
                *(
                    client.request(method, target, json=body, headers=self._as(who))
                    for method, target, who, body in calls
                )
            )

        learner = anyio.from_thread.run(burst, self._client(self.current.learner))
        reference = anyio.from_thread.run(burst, self._client(self.current.reference))
        for mine, theirs in zip(learner, reference, strict=True):
            self.same(mine, theirs)

    def tour(self) -> None:
        self.list_patients("osei", 1)
        self.read_patient("osei", 1, 5)  # shared with clinic 1: read-only
        self.add_visit("osei", 1, 5, True)  # 403
        self.add_visit("osei", 2, 5, True)  # home clinic: 201
        self.read_visit("osei", 1, 5, 9)  # the new visit, read where shared
        self.delete_visit("park", 3, 3, 3)  # shared with clinic 3: 403
        self.delete_visit("park", 3, 3, 11)  # 403 too, though there is no visit 11
        self.read_visit("osei", 1, 1, 2)  # patient 2's visit under patient 1: 404
        self.delete_visit("osei", 1, 1, 4)  # 204
        self.read_patient("lind", 3, 4)  # suspended: 403
        self.change_membership("lind", 3, "active")
        self.read_patient("lind", 3, 4)  # 200 now
        self.change_membership("osei", 2, "suspended")
        self.add_visit("osei", 2, 5, False)  # 403 before 422
        self.change_share(5, 1, False)
        self.read_patient("osei", 1, 5)  # 404 now
        self.change_share(2, 3, True)
        self.read_patient("park", 3, 2)  # 200, read-only
        self.read_patient("park", 1, 1)  # no membership at clinic 1: 404
        self.change_membership("park", 1, "active")
        self.list_patients("park", 1)
        self.stranger("not-a-token", 1)
        self.at_once(7)
        self.visits_agree()

    @invariant()
    def visits_agree(self) -> None:
        learner, reference = self.call(lambda nb: nb.call(visit_rows))
        self.agree("visits in the database", learner, reference)


@check(
    points=3,
    hint="""In some sequence of requests, while memberships are suspended, reinstated or
    removed and shares withdrawn, your app answers, or leaves the visits, differently from what the
    exercise asks. Replay the sequence shown in your notebook and compare each answer with the
    acceptance criteria, in their order.""",
    see="05-sub-dependencies.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Clinics, examples=3, steps=5)
