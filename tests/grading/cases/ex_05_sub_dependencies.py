"""Exercise 05-sub-dependencies: the mistakes its checks must catch, and correct answers written differently."""

EX = "05-sub-dependencies"
DIFFERENTIAL = "test_behaves_as_specified_in_any_sequence"

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        EX,
        "a patient of another clinic is answered 403, which tells that it exists",
        (
            """    query = select(Patient).where(Patient.id == patient_id, readable_by(here))
    patient = await session.scalar(query)
    if patient is None:
        raise HTTPException(404, "No such patient")""",
            """    patient = await session.get(Patient, patient_id)
    if patient is None:
        raise HTTPException(404, "No such patient")
    query = select(Patient.id).where(Patient.id == patient_id, readable_by(here))
    if await session.scalar(query) is None:
        raise HTTPException(403, "Not a patient of this clinic")""",
        ),
        {"test_a_hidden_patient_answers_like_a_missing_one", "test_a_shared_record_is_read_only", DIFFERENTIAL},
    ),
    (
        EX,
        "shares are ignored: a clinic reads only its own patients",
        (
            "    return or_(Patient.home_clinic_id == clinic_id, Patient.id.in_(shared))",
            "    return or_(Patient.home_clinic_id == clinic_id)",
        ),
        {
            "test_each_clinic_lists_its_own_and_its_shared_patients",
            "test_records_are_read_at_home_and_where_shared",
            "test_a_shared_record_is_read_only",
            "test_the_caller_and_the_membership_come_from_their_dependencies",
            "test_a_suspended_membership_is_refused_from_the_next_request",
            DIFFERENTIAL,
        },
    ),
    (
        EX,
        "a clinic a record is only shared with may add and delete its visits",
        (
            """    if chart.read_only:
        raise HTTPException(403, "This clinic may read this record, not change it")
    return chart.patient""",
            """    return chart.patient""",
        ),
        {"test_a_shared_record_is_read_only", DIFFERENTIAL},
    ),
    (
        EX,
        "a suspended membership is let through",
        (
            """    if membership.suspended:
        raise HTTPException(403, "Your membership of this clinic is suspended")
""",
            "",
        ),
        {"test_a_suspended_membership_is_refused_from_the_next_request", DIFFERENTIAL},
    ),
    (
        EX,
        "memberships are kept across requests, so a suspension or a removal is never seen",
        (
            """async def clinic_membership(
    clinic_id: int, practitioner: CurrentPractitioner, session: DBSession
) -> Membership:
    membership = await session.get(Membership, (practitioner.id, clinic_id))""",
            """KNOWN: dict = {}  # memberships already looked up, to spare the database


async def clinic_membership(
    clinic_id: int, practitioner: CurrentPractitioner, session: DBSession
) -> Membership:
    key = (practitioner.id, clinic_id)
    if key not in KNOWN:
        KNOWN[key] = await session.get(Membership, key)
    membership = KNOWN[key]""",
        ),
        {"test_a_suspended_membership_is_refused_from_the_next_request", DIFFERENTIAL},
    ),
    (
        EX,
        "the patient validator takes the clinic from the path and skips the membership",
        (
            """async def readable_patient(
    patient_id: int, membership: ActiveMembership, session: DBSession
) -> Chart:
    here = membership.clinic_id""",
            """async def readable_patient(
    patient_id: int, clinic_id: int, practitioner: CurrentPractitioner, session: DBSession
) -> Chart:
    here = clinic_id""",
        ),
        {
            "test_only_the_callers_own_clinics_are_open_to_them",
            "test_a_suspended_membership_is_refused_from_the_next_request",
            "test_one_session_and_one_membership_per_request",
            DIFFERENTIAL,
        },
    ),
    (
        EX,
        "the membership is found without the clinic: the caller's first one",
        (
            "    membership = await session.get(Membership, (practitioner.id, clinic_id))",
            "    membership = await session.scalar(\n"
            "        select(Membership).where(Membership.practitioner_id == practitioner.id)\n"
            "        .order_by(Membership.clinic_id)\n    )",
        ),
        {
            "test_each_clinic_lists_its_own_and_its_shared_patients",
            "test_records_are_read_at_home_and_where_shared",
            "test_a_hidden_patient_answers_like_a_missing_one",
            "test_only_the_callers_own_clinics_are_open_to_them",
            "test_a_suspended_membership_is_refused_from_the_next_request",
            "test_a_shared_record_is_read_only",
            "test_a_visit_is_found_only_under_its_own_patient",
            "test_the_caller_and_the_membership_come_from_their_dependencies",
            "test_one_session_and_one_membership_per_request",
            DIFFERENTIAL,
        },
    ),
    (
        EX,
        "a visit is looked up by its id alone, whichever patient the path names",
        ("    if visit is None or visit.patient_id != patient.id:", "    if visit is None:"),
        {"test_a_visit_is_found_only_under_its_own_patient", DIFFERENTIAL},
    ),
    (
        EX,
        "deleting a visit only needs the read validator",
        (
            """async def writable_visit(
    visit_id: int, patient: WritablePatient, session: DBSession
) -> Visit:
    return await visit_of(patient, visit_id, session)""",
            """async def writable_visit(
    visit_id: int, chart: ReadablePatient, session: DBSession
) -> Visit:
    return await visit_of(chart.patient, visit_id, session)""",
        ),
        {"test_a_shared_record_is_read_only", DIFFERENTIAL},
    ),
    (
        EX,
        "the write check comes after the visit is found, so a missing visit under a shared patient is 404",
        (
            """async def writable_visit(
    visit_id: int, patient: WritablePatient, session: DBSession
) -> Visit:
    return await visit_of(patient, visit_id, session)""",
            """async def writable_visit(
    visit: Annotated[Visit, Depends(readable_visit)], patient: WritablePatient
) -> Visit:
    return visit""",
        ),
        {"test_a_shared_record_is_read_only", DIFFERENTIAL},
    ),
    (
        EX,
        "the write check asks whether the caller works at the home clinic, not which clinic the path names",
        (
            """async def writable_patient(chart: ReadablePatient) -> Patient:
    if chart.read_only:""",
            """async def writable_patient(
    chart: ReadablePatient, practitioner: CurrentPractitioner, session: DBSession
) -> Patient:
    home = await session.get(Membership, (practitioner.id, chart.patient.home_clinic_id))
    if home is None or home.suspended:""",
        ),
        {
            "test_a_shared_record_is_read_only",
            "test_the_caller_and_the_membership_come_from_their_dependencies",
            DIFFERENTIAL,
        },
    ),
    (
        EX,
        "the patient validator opens a session of its own with use_cache=False",
        (
            """    patient_id: int, membership: ActiveMembership, session: DBSession
) -> Chart:""",
            """    patient_id: int, membership: ActiveMembership,
    session: Annotated[AsyncSession, Depends(get_db, use_cache=False)],
) -> Chart:""",
        ),
        {"test_one_session_and_one_membership_per_request"},
    ),
    (
        EX,
        "the list looks the membership up by itself instead of through clinic_membership",
        (
            """async def list_patients(membership: ActiveMembership, session: DBSession) -> list[dict]:
    here = membership.clinic_id""",
            """async def list_patients(
    clinic_id: int, practitioner: CurrentPractitioner, session: DBSession
) -> list[dict]:
    membership = await session.get(Membership, (practitioner.id, clinic_id))
    if membership is None:
        raise HTTPException(404, "No such clinic")
    if membership.suspended:
        raise HTTPException(403, "Your membership of this clinic is suspended")
    here = membership.clinic_id""",
        ),
        {
            "test_the_caller_and_the_membership_come_from_their_dependencies",
            "test_one_session_and_one_membership_per_request",
        },
    ),
    (
        EX,
        "the patient validator keeps the clinic of the request in a global, which concurrent requests overwrite",
        (
            """async def readable_patient(
    patient_id: int, membership: ActiveMembership, session: DBSession
) -> Chart:
    here = membership.clinic_id
    query = select(Patient).where(Patient.id == patient_id, readable_by(here))
    patient = await session.scalar(query)
    if patient is None:
        raise HTTPException(404, "No such patient")
    return Chart(patient, read_only=patient.home_clinic_id != here)""",
            """CURRENT = {"clinic": 0}  # the clinic the request works for


async def readable_patient(
    patient_id: int, membership: ActiveMembership, session: DBSession
) -> Chart:
    CURRENT["clinic"] = membership.clinic_id
    query = select(Patient).where(Patient.id == patient_id, readable_by(CURRENT["clinic"]))
    patient = await session.scalar(query)
    if patient is None:
        raise HTTPException(404, "No such patient")
    return Chart(patient, read_only=patient.home_clinic_id != CURRENT["clinic"])""",
        ),
        {DIFFERENTIAL},
    ),
    (
        EX,
        "the new visit is not committed",
        (
            """    session.add(visit)
    await session.commit()""",
            """    session.add(visit)
    await session.flush()""",
        ),
        {"test_a_shared_record_is_read_only", DIFFERENTIAL},
    ),
]

# The solution's three regions, as written (the alternatives below replace them whole or in part).
MEMBERSHIP = """async def clinic_membership(
    clinic_id: int, practitioner: CurrentPractitioner, session: DBSession
) -> Membership:
    membership = await session.get(Membership, (practitioner.id, clinic_id))
    if membership is None:
        raise HTTPException(404, "No such clinic")
    if membership.suspended:
        raise HTTPException(403, "Your membership of this clinic is suspended")
    return membership"""

VALIDATORS = """async def readable_patient(
    patient_id: int, membership: ActiveMembership, session: DBSession
) -> Chart:
    here = membership.clinic_id
    query = select(Patient).where(Patient.id == patient_id, readable_by(here))
    patient = await session.scalar(query)
    if patient is None:
        raise HTTPException(404, "No such patient")
    return Chart(patient, read_only=patient.home_clinic_id != here)


ReadablePatient = Annotated[Chart, Depends(readable_patient)]


async def writable_patient(chart: ReadablePatient) -> Patient:
    if chart.read_only:
        raise HTTPException(403, "This clinic may read this record, not change it")
    return chart.patient


WritablePatient = Annotated[Patient, Depends(writable_patient)]


async def visit_of(patient: Patient, visit_id: int, session: AsyncSession) -> Visit:
    visit = await session.get(Visit, visit_id)
    if visit is None or visit.patient_id != patient.id:
        raise HTTPException(404, "No such visit")
    return visit


async def readable_visit(
    visit_id: int, chart: ReadablePatient, session: DBSession
) -> Visit:
    return await visit_of(chart.patient, visit_id, session)


async def writable_visit(
    visit_id: int, patient: WritablePatient, session: DBSession
) -> Visit:
    return await visit_of(patient, visit_id, session)"""

ROUTES = """@app.get("/clinics/{clinic_id}/patients")
async def list_patients(membership: ActiveMembership, session: DBSession) -> list[dict]:
    here = membership.clinic_id
    query = select(Patient).where(readable_by(here)).order_by(Patient.id)
    return [
        {"id": one.id, "name": one.full_name, "read_only": one.home_clinic_id != here}
        for one in await session.scalars(query)
    ]


@app.get("/clinics/{clinic_id}/patients/{patient_id}")
async def read_patient(chart: ReadablePatient, session: DBSession) -> dict:
    patient = chart.patient
    ids = await session.scalars(
        select(Visit.id).where(Visit.patient_id == patient.id).order_by(Visit.id)
    )
    return {"id": patient.id, "name": patient.full_name, "read_only": chart.read_only,
            "visits": list(ids)}


@app.post("/clinics/{clinic_id}/patients/{patient_id}/visits", status_code=201)
async def add_visit(
    body: VisitIn, patient: WritablePatient, session: DBSession
) -> dict:
    visit = Visit(patient_id=patient.id, note=body.note)
    session.add(visit)
    await session.commit()
    return {"id": visit.id, "note": visit.note}


@app.get("/clinics/{clinic_id}/patients/{patient_id}/visits/{visit_id}")
async def read_visit(visit: ReadableVisit) -> dict:
    return {"id": visit.id, "note": visit.note}


@app.delete(
    "/clinics/{clinic_id}/patients/{patient_id}/visits/{visit_id}", status_code=204
)
async def delete_visit(visit: WritableVisit, session: DBSession) -> None:
    await session.delete(visit)
    await session.commit()"""

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "one callable-class validator for patients, its instances frozen dataclasses (read or write)",
        [
            (
                VALIDATORS,
                '''@dataclass(frozen=True)
class PatientAccess:
    """The patient in the path, as the clinic sees it; `write` also refuses a shared record."""

    write: bool

    async def __call__(
        self, patient_id: int, membership: ActiveMembership, session: DBSession
    ) -> Chart:
        here = membership.clinic_id
        patient = await session.get(Patient, patient_id)
        if patient is None or (
            patient.home_clinic_id != here
            and await session.get(Share, (patient_id, here)) is None
        ):
            raise HTTPException(404, "Patient not found")
        if self.write and patient.home_clinic_id != here:
            raise HTTPException(403, "Shared with this clinic for reading only")
        return Chart(patient, read_only=patient.home_clinic_id != here)


ReadablePatient = Annotated[Chart, Depends(PatientAccess(write=False))]
WritablePatient = Annotated[Chart, Depends(PatientAccess(write=True))]


async def readable_visit(visit_id: int, chart: ReadablePatient, session: DBSession) -> Visit:
    query = select(Visit).where(Visit.id == visit_id, Visit.patient_id == chart.patient.id)
    visit = await session.scalar(query)
    if visit is None:
        raise HTTPException(404, "Visit not found")
    return visit


async def writable_visit(visit_id: int, chart: WritablePatient, session: DBSession) -> Visit:
    query = select(Visit).where(Visit.id == visit_id, Visit.patient_id == chart.patient.id)
    visit = await session.scalar(query)
    if visit is None:
        raise HTTPException(404, "Visit not found")
    return visit''',
            ),
            (
                """async def add_visit(
    body: VisitIn, patient: WritablePatient, session: DBSession
) -> dict:
    visit = Visit(patient_id=patient.id, note=body.note)""",
                """async def add_visit(
    body: VisitIn, chart: WritablePatient, session: DBSession
) -> dict:
    visit = Visit(patient_id=chart.patient.id, note=body.note)""",
            ),
        ],
    ),
    (
        EX,
        "a router for the clinic, the membership one of its dependencies, found by a query; visibility by "
        "an outer join",
        [
            (
                MEMBERSHIP,
                """async def clinic_membership(
    clinic_id: int, practitioner: CurrentPractitioner, session: DBSession
) -> Membership:
    membership = await session.scalar(
        select(Membership).where(
            Membership.practitioner_id == practitioner.id, Membership.clinic_id == clinic_id
        )
    )
    if membership is None:
        raise HTTPException(404, "Clinic not found")
    if membership.suspended:
        raise HTTPException(403, "Membership suspended")
    return membership""",
            ),
            (
                ROUTES,
                """from fastapi import APIRouter, Response
from sqlalchemy import and_

clinic = APIRouter(prefix="/clinics/{clinic_id}", dependencies=[Depends(clinic_membership)])


@clinic.get("/patients")
async def list_patients(membership: ActiveMembership, session: DBSession) -> list[dict]:
    here = membership.clinic_id
    query = (
        select(Patient, Share.clinic_id)
        .outerjoin(Share, and_(Share.patient_id == Patient.id, Share.clinic_id == here))
        .where(or_(Patient.home_clinic_id == here, Share.clinic_id.is_not(None)))
        .order_by(Patient.id)
    )
    rows = (await session.execute(query)).all()
    return [{"id": p.id, "name": p.full_name, "read_only": shared is not None} for p, shared in rows]


@clinic.get("/patients/{patient_id}")
async def read_patient(chart: ReadablePatient, session: DBSession) -> dict:
    visits = await session.scalars(select(Visit).where(Visit.patient_id == chart.patient.id))
    return {"id": chart.patient.id, "name": chart.patient.full_name,
            "read_only": chart.read_only, "visits": sorted(visit.id for visit in visits)}


@clinic.post("/patients/{patient_id}/visits", status_code=201)
async def add_visit(body: VisitIn, patient: WritablePatient, session: DBSession) -> dict:
    visit = Visit(patient_id=patient.id, note=body.note)
    session.add(visit)
    await session.flush()
    answer = {"id": visit.id, "note": visit.note}
    await session.commit()
    return answer


@clinic.get("/patients/{patient_id}/visits/{visit_id}")
async def read_visit(visit: ReadableVisit) -> dict:
    return {"id": visit.id, "note": visit.note}


@clinic.delete("/patients/{patient_id}/visits/{visit_id}")
async def delete_visit(visit: WritableVisit, session: DBSession) -> Response:
    await session.delete(visit)
    await session.commit()
    return Response(status_code=204)


app.include_router(clinic)""",
            ),
        ],
    ),
    (
        EX,
        "validators return plain rows, read_only computed from the membership, the list merged in Python",
        [
            (
                VALIDATORS,
                """async def readable_patient(
    patient_id: int, membership: ActiveMembership, session: DBSession
) -> Patient:
    patient = await session.scalar(
        select(Patient).where(Patient.id == patient_id, readable_by(membership.clinic_id))
    )
    if patient is None:
        raise HTTPException(404, "No patient with this id here")
    return patient


ReadablePatient = Annotated[Patient, Depends(readable_patient)]


async def writable_patient(patient: ReadablePatient, membership: ActiveMembership) -> Patient:
    if patient.home_clinic_id != membership.clinic_id:
        raise HTTPException(403, "Only the patient's home clinic may change the record")
    return patient


WritablePatient = Annotated[Patient, Depends(writable_patient)]


async def visit_of(patient: Patient, visit_id: int, session: AsyncSession) -> Visit:
    visit = await session.get(Visit, visit_id)
    if visit is None or visit.patient_id != patient.id:
        raise HTTPException(404, "No such visit")
    return visit


async def readable_visit(visit_id: int, patient: ReadablePatient, session: DBSession) -> Visit:
    return await visit_of(patient, visit_id, session)


async def writable_visit(visit_id: int, patient: WritablePatient, session: DBSession) -> Visit:
    return await visit_of(patient, visit_id, session)""",
            ),
            (
                """async def list_patients(membership: ActiveMembership, session: DBSession) -> list[dict]:
    here = membership.clinic_id
    query = select(Patient).where(readable_by(here)).order_by(Patient.id)
    return [
        {"id": one.id, "name": one.full_name, "read_only": one.home_clinic_id != here}
        for one in await session.scalars(query)
    ]""",
                """async def list_patients(membership: ActiveMembership, session: DBSession) -> list[dict]:
    here = membership.clinic_id
    own = await session.scalars(select(Patient).where(Patient.home_clinic_id == here))
    shared = await session.scalars(
        select(Patient).join(Share, Share.patient_id == Patient.id).where(Share.clinic_id == here)
    )
    everyone = {p.id: {"id": p.id, "name": p.full_name, "read_only": False} for p in own}
    for p in shared:
        everyone.setdefault(p.id, {"id": p.id, "name": p.full_name, "read_only": True})
    return [everyone[key] for key in sorted(everyone)]""",
            ),
            (
                """async def read_patient(chart: ReadablePatient, session: DBSession) -> dict:
    patient = chart.patient
    ids = await session.scalars(
        select(Visit.id).where(Visit.patient_id == patient.id).order_by(Visit.id)
    )
    return {"id": patient.id, "name": patient.full_name, "read_only": chart.read_only,
            "visits": list(ids)}""",
                """async def read_patient(
    patient: ReadablePatient, membership: ActiveMembership, session: DBSession
) -> dict:
    ids = await session.scalars(
        select(Visit.id).where(Visit.patient_id == patient.id).order_by(Visit.id)
    )
    return {"id": patient.id, "name": patient.full_name,
            "read_only": patient.home_clinic_id != membership.clinic_id, "visits": list(ids)}""",
            ),
        ],
    ),
    (
        EX,
        "the membership in two stacked dependencies (found, then active), response models and status names",
        [
            (
                MEMBERSHIP,
                """from fastapi import status


async def any_membership(
    clinic_id: int, practitioner: CurrentPractitioner, session: DBSession
) -> Membership:
    found = await session.get(Membership, {"practitioner_id": practitioner.id,
                                           "clinic_id": clinic_id})
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Unknown clinic")
    return found


async def clinic_membership(
    membership: Annotated[Membership, Depends(any_membership)],
) -> Membership:
    if membership.suspended:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Suspended here")
    return membership""",
            ),
            (
                """@app.get("/clinics/{clinic_id}/patients/{patient_id}/visits/{visit_id}")
async def read_visit(visit: ReadableVisit) -> dict:
    return {"id": visit.id, "note": visit.note}""",
                """class VisitOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    note: str


@app.get("/clinics/{clinic_id}/patients/{patient_id}/visits/{visit_id}")
async def read_visit(visit: ReadableVisit) -> VisitOut:
    return VisitOut.model_validate(visit)""",
            ),
            (
                """@app.post("/clinics/{clinic_id}/patients/{patient_id}/visits", status_code=201)
async def add_visit(
    body: VisitIn, patient: WritablePatient, session: DBSession
) -> dict:
    visit = Visit(patient_id=patient.id, note=body.note)
    session.add(visit)
    await session.commit()
    return {"id": visit.id, "note": visit.note}""",
                """@app.post("/clinics/{clinic_id}/patients/{patient_id}/visits",
          status_code=status.HTTP_201_CREATED, response_model=dict)
async def add_visit(
    body: VisitIn, patient: WritablePatient, session: DBSession
):
    visit = Visit(patient_id=patient.id, **body.model_dump())
    session.add(visit)
    await session.commit()
    return {"id": visit.id, "note": visit.note}""",
            ),
        ],
    ),
]
