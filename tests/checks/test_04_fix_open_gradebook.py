"""Hidden checks for exercise 04-fix, the open grade book.

The grade-changing routes must run the teacher check, really: a teacher changes and clears the
grades of their own classes (no `role` in the link needed), a student is refused with 403 whatever
the link adds, nobody logged in gets 401 with its challenge, no route documents a `role` query
parameter, and the role is looked at once per request. Feature checks keep the rest of the grade
book honest (students' own grades, teachers reading their classes, the admin's classes).

Besides the demo school of the notebook, each grade adds a class of its own, made up from its seed:
its teacher, its students (one of them also in Chemistry 10A), their tokens, ids and grades. A
differential check then drives the learner's app and the reference with the same sequences of
requests (book.grader.differential).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from random import Random
from typing import Any

from httpx import AsyncClient
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "04-fix-open-gradebook"

# The notebook's demo school: login -> (id, name, role); class id -> (name, teacher id, grades).
SCHOOL = {
    "okafor": (1, "Dr Okafor", "admin"),
    "ruiz": (2, "Mr Ruiz", "teacher"),
    "lindqvist": (3, "Ms Lindqvist", "teacher"),
    "amara": (4, "Amara", "student"),
    "bo": (5, "Bo", "student"),
    "chen": (6, "Chen", "student"),
    "dmitri": (7, "Dmitri", "student"),
}
CLASSES = {1: ("Chemistry 10A", 2, {4: 72, 5: 88, 6: None}), 2: ("History 10A", 3, {5: 91, 6: None, 7: 64})}
GRADE_PATH = "/classes/{class_id}/grades/{student_id}"

TITLES = ["Mr", "Ms", "Mx", "Dr"]
SURNAMES = ["Adeyemi", "Brandt", "Castillo", "Dubois", "Eriksen", "Fujita", "Grieve", "Haddad", "Ivanova"]
FIRST_NAMES = [
    "Ines",
    "Jomo",
    "Kaito",
    "Leila",
    "Mateo",
    "Nia",
    "Oskar",
    "Priya",
    "Quinn",
    "Rafa",
    "Sanna",
    "Tariq",
    "Uma",
    "Vik",
    "Wren",
    "Yusuf",
    "Zara",
]
SUBJECTS = ["Biology", "Physics", "Latin", "Geography", "Music", "Art", "Algebra", "Drama", "Economics"]
ROLE_LINKS = ["teacher", "admin", "student", "Teacher", "TEACHER", "teacher,admin", "true", "1"]


def demo_token(login: str) -> str:
    return f"{login}-gradebook-demo"


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@dataclass
class Member:
    id: int
    name: str
    token: str
    grade: int | None = None


@dataclass
class MadeUp:
    """This grade's class: its teacher, its students (the first also in Chemistry 10A)."""

    class_id: int
    name: str
    teacher: Member
    students: list[Member] = field(default_factory=list)
    chemistry: int = 0  # the first student's grade in Chemistry 10A

    def grades(self, overrides: Mapping[int, int | None] | None = None) -> list[dict[str, Any]]:
        overrides = overrides or {}
        return [
            {"student_id": s.id, "student": s.name, "grade": overrides.get(s.id, s.grade)}
            for s in sorted(self.students, key=lambda s: s.id)
        ]


@agent_side
async def add_class(
    ctx: "Any",
    class_id: int,
    name: str,
    teacher: "dict[str, Any]",
    students: "list[dict[str, Any]]",
    chemistry_grade: int,
) -> None:
    """Seed a teacher, students and their class; the first student also attends Chemistry 10A (class 1)."""
    nb = ctx.nb
    async with nb.Session() as db:
        db.add(
            nb.Person(id=teacher["id"], name=teacher["name"], role="teacher", token_digest=nb.digest(teacher["token"]))
        )
        for student in students:
            db.add(
                nb.Person(
                    id=student["id"], name=student["name"], role="student", token_digest=nb.digest(student["token"])
                )
            )
        await db.flush()
        db.add(nb.SchoolClass(id=class_id, name=name, teacher_id=teacher["id"]))
        await db.flush()
        for student in students:
            db.add(nb.Enrolment(class_id=class_id, student_id=student["id"], grade=student["grade"]))
        db.add(nb.Enrolment(class_id=1, student_id=students[0]["id"], grade=chemistry_grade))
        await db.commit()


@agent_side
async def all_grades(ctx: "Any") -> "dict[str, list[list[Any]]]":
    """Every enrolment as [class id, student id, grade], and every class as [id, name, teacher id]."""
    from sqlalchemy import select

    nb = ctx.nb
    async with nb.Session() as db:
        enrolments = await db.scalars(select(nb.Enrolment))
        classes = await db.scalars(select(nb.SchoolClass))
        return {
            "grades": sorted([e.class_id, e.student_id, e.grade] for e in enrolments),
            "classes": sorted([c.id, c.name, c.teacher_id] for c in classes),
        }


@agent_side
async def counted_person(ctx: "Any", person_id: int) -> "Callable[[], Any]":
    """A stand-in for current_person: the person `person_id`, counting each time their role is read."""
    nb = ctx.nb
    async with nb.Session() as db:
        person = await db.get(nb.Person, person_id)

    class Counted:
        reads = 0

        def __init__(self, wrapped: "Any") -> None:
            self._wrapped = wrapped

        def __getattr__(self, name: str) -> "Any":
            return getattr(self._wrapped, name)

        @property
        def role(self) -> "Any":
            Counted.reads += 1
            return self._wrapped.role

    ctx.counted = Counted

    def counted_current_person() -> "Any":
        return Counted(person)

    return counted_current_person


@agent_side
def role_reads(ctx: "Any") -> "Any":
    """How many times the role was read since the last call (and start counting again)."""
    reads, ctx.counted.reads = ctx.counted.reads, 0
    return reads


async def made_up_class(nb: Notebook, rng: Random) -> MadeUp:
    ids = rng.sample(range(20, 90), 5)
    teacher = Member(ids[0], f"{rng.choice(TITLES)} {rng.choice(SURNAMES)}", f"staff-{rng.getrandbits(64):016x}")
    names = rng.sample(FIRST_NAMES, 4)
    students = [
        Member(
            ids[1 + n],
            names[n],
            f"pupil-{rng.getrandbits(64):016x}",
            rng.choice([None, rng.randint(0, 100), rng.randint(40, 100)]),
        )
        for n in range(4)
    ]
    made = MadeUp(
        rng.randint(10, 99),
        f"{rng.choice(SUBJECTS)} {rng.randint(7, 12)}{rng.choice('ABCD')}",
        teacher,
        students,
        rng.randint(0, 100),
    )
    await nb.call(add_class, made.class_id, made.name, vars(teacher), [vars(s) for s in students], made.chemistry)
    return made


def grade_path(class_id: int, student_id: int) -> str:
    return GRADE_PATH.format(class_id=class_id, student_id=student_id)


@check(
    points=3,
    hint="""A teacher changing or clearing a grade in a class they teach must get 200. If
    the answer is 422, read the error's `loc` and draw the route with book.graph: which dependency reads
    that parameter from the request, and did its author mean it to come from the request? If it is 403,
    which role does the check ask for?""",
    see="04-role-checks.ipynb#a-dependency-that-takes-arguments",
)
async def test_teachers_change_and_clear_the_grades_of_their_own_classes(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    made = await made_up_class(nb, rng)
    graphs = {method: await nb.graph(f"{method} {GRADE_PATH}") for method in ("PUT", "DELETE")}
    teacher = bearer(made.teacher.token)
    changed: dict[int, int | None] = {}
    for student in made.students:
        grade = rng.randint(0, 100)
        expect_response(
            await client.put(grade_path(made.class_id, student.id), json={"grade": grade}, headers=teacher),
            status=200,
            json={"class_id": made.class_id, "student_id": student.id, "grade": grade},
            called=f"PUT {grade_path(made.class_id, student.id)} {{grade: {grade}}} as "
            f"{made.teacher.name}, the class's teacher",
            seen=graphs["PUT"],
        )
        changed[student.id] = grade
    cleared = rng.choice(made.students)
    expect_response(
        await client.delete(grade_path(made.class_id, cleared.id), headers=teacher),
        status=200,
        json={"class_id": made.class_id, "student_id": cleared.id, "grade": None},
        called=f"DELETE {grade_path(made.class_id, cleared.id)} as {made.teacher.name}, the class's teacher",
        seen=graphs["DELETE"],
    )
    changed[cleared.id] = None
    expect_response(
        await client.get(f"/classes/{made.class_id}/grades", headers=teacher),
        status=200,
        json={"class": made.name, "teacher": made.teacher.name, "grades": made.grades(changed)},
        called=f"GET /classes/{made.class_id}/grades as {made.teacher.name}, after the changes",
    )
    # The demo school's teachers too, in their own classes.
    for login, class_id, student_id in (("ruiz", 1, made.students[0].id), ("lindqvist", 2, 7)):
        grade = rng.randint(0, 100)
        expect_response(
            await client.put(
                grade_path(class_id, student_id), json={"grade": grade}, headers=bearer(demo_token(login))
            ),
            status=200,
            json={"class_id": class_id, "student_id": student_id, "grade": grade},
            called=f"PUT {grade_path(class_id, student_id)} {{grade: {grade}}} as {SCHOOL[login][1]}",
        )
    # A teacher's reach stops at their own classes, and at the students in them.
    for who, token, class_id, student_id in (
        (made.teacher.name, made.teacher.token, 1, 4),
        ("Mr Ruiz", demo_token("ruiz"), made.class_id, made.students[1].id),
        (made.teacher.name, made.teacher.token, made.class_id, 4),
    ):
        for method in ("PUT", "DELETE"):
            body: dict[str, Any] = {"json": {"grade": 50}} if method == "PUT" else {}
            expect_response(
                await client.request(method, grade_path(class_id, student_id), headers=bearer(token), **body),
                status=404,
                called=f"{method} {grade_path(class_id, student_id)} as {who}, "
                "who does not teach that class or student",
            )
    for bad in (-1, 101, "A+"):
        expect_response(
            await client.put(grade_path(made.class_id, made.students[0].id), json={"grade": bad}, headers=teacher),
            status=422,
            called=f"PUT {grade_path(made.class_id, made.students[0].id)} {{grade: {bad!r}}} as {made.teacher.name}",
        )


@check(
    points=3,
    hint="""A student must never change a grade, whatever they add to the link. If some
    link lets them through, find where the link's `role` is read (book.graph of the route shows it) and
    follow what FastAPI does with the value that dependency returns: does anything check the caller?""",
    see="04-role-checks.ipynb#when-the-endpoint-does-not-need-the-user",
)
async def test_students_are_refused_whatever_the_link_adds(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    made = await made_up_class(nb, rng)
    graphs = {method: await nb.graph(f"{method} {GRADE_PATH}") for method in ("PUT", "DELETE")}
    links = [{}, {"role": "teacher"}, {"role": rng.choice(ROLE_LINKS)}, {"role": "teacher", "as": "teacher"}]
    callers = [(s.name, s.token) for s in rng.sample(made.students, 2)] + [("Amara", demo_token("amara"))]
    for name, token in callers:
        in_class = 1 if name == "Amara" else made.class_id
        targets = (
            [4, 5]
            if name == "Amara"
            else [next(s.id for s in made.students if s.name == name), rng.choice(made.students).id]
        )
        for student_id in targets:
            for link in links:
                path = grade_path(in_class, student_id)
                shown = "?" + "&".join(f"{k}={v}" for k, v in link.items()) if link else ""
                grade = rng.randint(0, 100)
                expect_response(
                    await client.put(path, params=link, json={"grade": grade}, headers=bearer(token)),
                    status=403,
                    called=f"PUT {path}{shown} {{grade: {grade}}} as {name}, a student",
                    seen=graphs["PUT"],
                )
                expect_response(
                    await client.delete(path, params=link, headers=bearer(token)),
                    status=403,
                    called=f"DELETE {path}{shown} as {name}, a student",
                    seen=graphs["DELETE"],
                )
    expect_response(
        await client.get(f"/classes/{made.class_id}/grades", headers=bearer(made.teacher.token)),
        status=200,
        json={"class": made.name, "teacher": made.teacher.name, "grades": made.grades()},
        called=f"GET /classes/{made.class_id}/grades as {made.teacher.name}, after the students' tries",
    )
    chemistry = await client.get("/classes/1/grades", headers=bearer(demo_token("ruiz")))
    grades = {row["student_id"]: row["grade"] for row in chemistry.json().get("grades", [])}
    expect(
        grades.get(4) == 72 and grades.get(5) == 88,
        called="GET /classes/1/grades as Mr Ruiz, after Amara's tries",
        got=f"Amara {grades.get(4)}, Bo {grades.get(5)}",
        expected="Amara 72, Bo 88, as before",
    )


@check(
    points=2,
    hint="""The API's documentation (/openapi.json) shows a query parameter `role` that no
    endpoint declared, so clients are told to send it. Where does it come from? book.graph of the
    route shows which dependency reads it.""",
    see="01-typed-aliases.ipynb#the-alias-write-the-dependency-once",
)
async def test_no_route_documents_a_role_query_parameter(nb: Notebook, client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    paths = schema.get("paths", {})
    documented = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    for method in ("PUT", "DELETE"):
        expect(
            (method, GRADE_PATH) in documented,
            called="GET /openapi.json",
            got=f"the routes {sorted(documented)}",
            expected=f"{method} {GRADE_PATH}",
        )
    asking = sorted(
        f"{method.upper()} {path}: {p.get('in')} {p.get('name')}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        for p in operation.get("parameters", [])
        if p.get("name") == "role"
    )
    expect(
        not asking,
        called="GET /openapi.json, the parameters of every route",
        got=", ".join(asking),
        expected="no route asks for a parameter `role`",
        seen=await nb.graph(f"PUT {GRADE_PATH}"),
    )
    put = paths[GRADE_PATH]["put"]
    names = sorted((p.get("in"), p.get("name")) for p in put.get("parameters", []))
    expect(
        names == [("path", "class_id"), ("path", "student_id")] and "requestBody" in put,
        called=f"GET /openapi.json, PUT {GRADE_PATH}",
        got=f"parameters {names}",
        expected="the path parameters class_id and student_id, and the grade as the body",
    )


@check(
    points=2,
    hint="""Each grade change must look at the caller's role exactly once: not zero times
    (the check never runs), not twice (two checkers for one request). book.trace of the request lists
    every dependency that ran. Is the role checker among them, and how many times?""",
    see="04-role-checks.ipynb#pitfall-two-equal-instances-are-two-dependencies",
)
async def test_the_role_check_runs_once_per_request(nb: Notebook, rng: Random) -> None:
    made = await made_up_class(nb, rng)
    await nb.override("current_person", await nb.call(counted_person, made.teacher.id))
    student = rng.choice(made.students)
    for method, body in (("PUT", {"json": {"grade": rng.randint(0, 100)}}), ("DELETE", {})):
        trace = await nb.trace(method, grade_path(made.class_id, student.id), **body)
        reads = await nb.call(role_reads)
        expect(
            reads == 1,
            called=f"{method} {grade_path(made.class_id, student.id)} as {made.teacher.name} "
            "(current_person overridden by one counting the role's reads)",
            got=f"the role was read {reads} time(s), and the answer was {trace.status}",
            expected="the role read once, by one role check",
            seen=trace.text,
        )


@check(
    points=1,
    hint="""Without a token, or with an unknown one, every route answers 401 with
    WWW-Authenticate: Bearer, whatever the link adds. Does every route's chain start from the caller's
    token, before anything else about the request is read?""",
    see="03-current-user.ipynb#the-dependency",
)
async def test_nobody_logged_in_is_asked_to_log_in(client: AsyncClient, rng: Random) -> None:
    routes = [
        ("GET", "/me/grades"),
        ("GET", "/classes/1/grades"),
        ("PUT", grade_path(1, 4)),
        ("DELETE", grade_path(2, 5)),
        ("GET", "/admin/classes"),
        ("POST", "/admin/classes"),
        ("POST", "/admin/classes/1/students/7"),
    ]
    for method, path in routes:
        for token in (None, f"forged-{rng.getrandbits(48):012x}"):
            for link in ({}, {"role": "teacher"}):
                body: dict[str, Any] = {"json": {"grade": 100}} if method == "PUT" else {}
                if path == "/admin/classes" and method == "POST":
                    body = {"json": {"name": "Forgery 101", "teacher_id": 2}}
                response = await client.request(method, path, params=link, headers=bearer(token), **body)
                expect_response(
                    response,
                    status=401,
                    headers={"www-authenticate": "Bearer"},
                    called=f"{method} {path}{'?role=teacher' if link else ''} "
                    f"{'with the unknown token ' + token if token else 'without a token'}",
                )


@check(
    points=1,
    hint="""GET /me/grades lists the caller's own grades, one entry per class they attend, by
    class id: {"class_id", "class", "grade"}. Whose grades does the route read: the caller the token
    names, or someone the request describes?""",
    see="03-current-user.ipynb#the-dependency",
)
async def test_students_read_their_own_grades(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    made = await made_up_class(nb, rng)
    for n, student in enumerate(made.students):
        mine = [{"class_id": made.class_id, "class": made.name, "grade": student.grade}]
        if n == 0:
            mine.insert(0, {"class_id": 1, "class": "Chemistry 10A", "grade": made.chemistry})
        expect_response(
            await client.get("/me/grades", headers=bearer(student.token)),
            status=200,
            json=mine,
            called=f"GET /me/grades as {student.name}",
        )
    expect_response(
        await client.get("/me/grades", headers=bearer(demo_token("bo"))),
        status=200,
        json=[
            {"class_id": 1, "class": "Chemistry 10A", "grade": 88},
            {"class_id": 2, "class": "History 10A", "grade": 91},
        ],
        called="GET /me/grades as Bo",
    )


@check(
    points=1,
    hint="""GET /classes/{class_id}/grades is for the class's teacher: another teacher gets
    404, a student or the admin 403. Which dependency finds the class, and does it know who is asking?""",
    see="05-sub-dependencies.ipynb#pitfall-403-for-someone-elses-data-leaks-that-it-exists",
)
async def test_teachers_read_the_grades_of_their_own_classes_only(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    made = await made_up_class(nb, rng)
    path = f"/classes/{made.class_id}/grades"
    expect_response(
        await client.get(path, headers=bearer(made.teacher.token)),
        status=200,
        json={"class": made.name, "teacher": made.teacher.name, "grades": made.grades()},
        called=f"GET {path} as {made.teacher.name}, its teacher",
    )
    for who, token, status in (
        ("Mr Ruiz, another teacher", demo_token("ruiz"), 404),
        (f"{made.students[0].name}, a student of the class", made.students[0].token, 403),
        ("Dr Okafor, the admin", demo_token("okafor"), 403),
    ):
        expect_response(await client.get(path, headers=bearer(token)), status=status, called=f"GET {path} as {who}")
    expect_response(
        await client.get("/classes/1/grades", headers=bearer(made.teacher.token)),
        status=404,
        called=f"GET /classes/1/grades as {made.teacher.name}, who does not teach Chemistry 10A",
    )


@check(
    points=1,
    hint="""The admin opens classes (POST /admin/classes, 201), enrols students (201, 409 when
    already enrolled, 404 for anyone who is not a student) and lists them; nobody else reaches /admin
    (403). What guards the whole /admin router, and which role does it ask for?""",
    see="04-role-checks.ipynb#when-the-endpoint-does-not-need-the-user",
)
async def test_the_admin_manages_classes(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    made = await made_up_class(nb, rng)
    okafor = bearer(demo_token("okafor"))
    name = f"{rng.choice(SUBJECTS)} club {rng.randint(1, 9)}"
    opened = await client.post("/admin/classes", json={"name": name, "teacher_id": made.teacher.id}, headers=okafor)
    expect_response(opened, status=201, called=f"POST /admin/classes {{name: {name}}} as Dr Okafor")
    new = opened.json()
    expect(
        isinstance(new, dict) and new.get("name") == name and new.get("teacher_id") == made.teacher.id,
        called=f"POST /admin/classes {{name: {name}}} as Dr Okafor",
        got=new,
        expected=f'{{"id": ..., "name": "{name}", "teacher_id": {made.teacher.id}}}',
    )
    enrolled = sorted(s.id for s in rng.sample(made.students, 2))
    for student_id in enrolled:
        expect_response(
            await client.post(f"/admin/classes/{new['id']}/students/{student_id}", headers=okafor),
            status=201,
            json={"class_id": new["id"], "student_id": student_id, "grade": None},
        )
    expect_response(
        await client.post(f"/admin/classes/{new['id']}/students/{enrolled[0]}", headers=okafor),
        status=409,
        called=f"POST /admin/classes/{new['id']}/students/{enrolled[0]} again",
    )
    expect_response(
        await client.post(f"/admin/classes/{new['id']}/students/{made.teacher.id}", headers=okafor),
        status=404,
        called=f"POST /admin/classes/{new['id']}/students/{made.teacher.id} (a teacher)",
    )
    listed = await client.get("/admin/classes", headers=okafor)
    expect_response(listed, status=200)
    entry = next((c for c in listed.json() if c.get("id") == new["id"]), None)
    expect(
        entry == {"id": new["id"], "name": name, "teacher_id": made.teacher.id, "students": enrolled},
        called="GET /admin/classes as Dr Okafor",
        got=entry,
        expected=f"the new class with the students {enrolled}",
    )
    for who, token in ((made.teacher.name, made.teacher.token), (made.students[0].name, made.students[0].token)):
        expect_response(
            await client.get("/admin/classes", headers=bearer(token)), status=403, called=f"GET /admin/classes as {who}"
        )
    expect_response(
        await client.get(f"/classes/{new['id']}/grades", headers=bearer(made.teacher.token)),
        status=200,
        called=f"GET /classes/{new['id']}/grades as {made.teacher.name}, its teacher",
    )


LOGINS = [None, *SCHOOL]
LINKS = [{}, {"role": "teacher"}, {"role": "student"}, {"role": "admin"}]


class GradeBook(Machine):
    """Any sequence of requests by anyone (nobody, the admin, the teachers, the students) with or
    without a role in the link, classes opened and students enrolled along the way, as the reference
    answers them: statuses, bodies, challenges, and every grade kept."""

    def _send(self, method: str, path: str, who: str | None, link: int = 0, **request: Any) -> None:
        learner, reference = self.send(
            method, path, params=LINKS[link] or None, headers=bearer(demo_token(who) if who else None), **request
        )
        self.same(learner, reference, headers=("www-authenticate",))

    @rule(
        who=st.sampled_from(LOGINS),
        class_id=st.integers(1, 3),
        student_id=st.integers(4, 8),
        grade=st.one_of(st.integers(0, 100), st.sampled_from([-1, 101])),
        link=st.integers(0, len(LINKS) - 1),
    )
    def set_grade(self, who: str | None, class_id: int, student_id: int, grade: int, link: int) -> None:
        self._send("PUT", grade_path(class_id, student_id), who, link, json={"grade": grade})

    @rule(
        who=st.sampled_from(LOGINS),
        class_id=st.integers(1, 3),
        student_id=st.integers(4, 8),
        link=st.integers(0, len(LINKS) - 1),
    )
    def clear_grade(self, who: str | None, class_id: int, student_id: int, link: int) -> None:
        self._send("DELETE", grade_path(class_id, student_id), who, link)

    @rule(who=st.sampled_from(LOGINS))
    def read_own_grades(self, who: str | None) -> None:
        self._send("GET", "/me/grades", who)

    @rule(who=st.sampled_from(LOGINS), class_id=st.integers(1, 3), link=st.integers(0, len(LINKS) - 1))
    def read_class_grades(self, who: str | None, class_id: int, link: int) -> None:
        self._send("GET", f"/classes/{class_id}/grades", who, link)

    @rule(who=st.sampled_from(LOGINS), subject=st.sampled_from(SUBJECTS), teacher_id=st.integers(1, 4))
    def open_class(self, who: str | None, subject: str, teacher_id: int) -> None:
        self._send("POST", "/admin/classes", who, json={"name": f"{subject} 11C", "teacher_id": teacher_id})

    @rule(who=st.sampled_from(LOGINS), class_id=st.integers(1, 3), student_id=st.integers(1, 8))
    def enrol(self, who: str | None, class_id: int, student_id: int) -> None:
        self._send("POST", f"/admin/classes/{class_id}/students/{student_id}", who)

    def tour(self) -> None:
        self.set_grade("ruiz", 1, 5, 93, 0)
        self.set_grade("amara", 1, 4, 100, 1)
        self.clear_grade("lindqvist", 2, 7, 0)
        self.clear_grade("chen", 2, 6, 1)
        self.grades_agree()
        self.set_grade("okafor", 1, 6, 40, 0)
        self.set_grade(None, 1, 4, 50, 1)
        self.read_own_grades("bo")
        self.read_class_grades("ruiz", 1, 0)
        self.open_class("okafor", "Biology", 3)
        self.enrol("okafor", 3, 4)
        self.set_grade("lindqvist", 3, 4, 77, 0)
        self.set_grade("amara", 3, 4, 100, 2)
        self.read_own_grades("amara")
        self.grades_agree()

    @invariant()
    def grades_agree(self) -> None:
        learner, reference = self.call(lambda nb: nb.call(all_grades))
        self.agree("classes", learner["classes"], reference["classes"])
        self.agree("grades [class, student, grade]", learner["grades"], reference["grades"])


@check(
    points=3,
    hint="""In some sequence of requests by teachers, students, the admin or nobody, with
    or without a role in the link, your app answers or keeps grades differently from the grade book's
    rules. Replay the sequence shown in your notebook and compare each answer with the rules.""",
    see="04-role-checks.ipynb#recap",
)
async def test_behaves_as_the_grade_book_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(GradeBook, examples=2, steps=6)
