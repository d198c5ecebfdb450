"""Exercise 05-fix-tenant-header: the mistakes its checks must catch, and correct fixes written differently.

A workaround that leaves the header trusted and patches some routes edits two cells of the starter:
the company dependency (left as shipped) and the routes. A mutant is one replacement, so those are
written in the routes cell: the shipped dependencies (BUGGY_DEPENDENCIES) are defined again just
before `app`, and the routes below use them, exactly as in the learner's notebook.
"""

EX = "05-fix-tenant-header"

FIX = """    company = await session.scalar(
        select(Company)
        .join(Membership, Membership.company_id == Company.id)
        .where(Company.id == x_company, Membership.member_id == member.id)
    )
"""
SHIPPED = "    company = await session.get(Company, x_company)\n"
SIGNATURE = """    x_company: Annotated[int, Header(description="The company picked in the switcher")],
) -> Company:
    ### BEGIN SOLUTION
"""
HEAD = (
    """async def get_current_company(
    member: CurrentMember,
    session: DBSession,
"""
    + SIGNATURE
)

# The company dependency and the validator as the exercise ships them, defined again in the routes cell.
BUGGY_DEPENDENCIES = """async def get_current_company(
    member: CurrentMember,
    session: DBSession,
    x_company: Annotated[int, Header(description="The company picked in the switcher")],
) -> Company:
    company = await session.get(Company, x_company)
    if company is None:
        raise HTTPException(404, "Company not found")
    return company


CurrentCompany = Annotated[Company, Depends(get_current_company)]


async def get_invoice(
    invoice_id: int, company: CurrentCompany, session: DBSession
) -> Invoice:
    query = select(Invoice).where(Invoice.company_id == company.id)
    invoice = await session.scalar(query.where(Invoice.id == invoice_id))
    if invoice is None:
        raise HTTPException(404, "Invoice not found")
    return invoice


InvoiceDep = Annotated[Invoice, Depends(get_invoice)]


"""
APP = 'app = FastAPI(title="Ledgerly")\n'
MEMBER_OF = """async def require_membership(member: Member, company: Company, session: AsyncSession) -> None:
    if await session.get(Membership, (member.id, company.id)) is None:
        raise HTTPException(404, "Company not found")


"""
LIST = """async def list_invoices(
    company: CurrentCompany, session: DBSession
) -> list[InvoiceOut]:
"""
LIST_CHECKED = """async def list_invoices(
    company: CurrentCompany, session: DBSession, member: CurrentMember
) -> list[InvoiceOut]:
    await require_membership(member, company, session)
"""
ME_TO_LIST = (
    """@app.get("/me")
async def read_me(member: CurrentMember, session: DBSession) -> dict:
    mine = await session.scalars(
        select(Company)
        .join(Membership, Membership.company_id == Company.id)
        .where(Membership.member_id == member.id)
        .order_by(Company.id)
    )
    companies = [{"id": company.id, "name": company.name} for company in mine]
    return {"name": member.name, "companies": companies}


@app.get("/invoices")
"""
    + LIST
)
DOWNLOAD = """async def download_invoice(
    invoice: InvoiceDep, company: CurrentCompany
) -> PlainTextResponse:
"""
DOWNLOAD_CHECKED = """async def download_invoice(
    invoice: InvoiceDep, company: CurrentCompany, member: CurrentMember, session: DBSession
) -> PlainTextResponse:
    await require_membership(member, company, session)
"""
BETWEEN = """    rows = await session.scalars(
        select(Invoice).where(Invoice.company_id == company.id).order_by(Invoice.id)
    )
    return [InvoiceOut.model_validate(invoice) for invoice in rows]


@app.post("/invoices", status_code=201)
async def create_invoice(
    new: NewInvoice, company: CurrentCompany, session: DBSession
) -> InvoiceOut:
    invoice = Invoice(company_id=company.id, **new.model_dump())
    session.add(invoice)
    await session.commit()
    return InvoiceOut.model_validate(invoice)


@app.get("/invoices/{invoice_id}")
async def read_invoice(invoice: InvoiceDep) -> InvoiceOut:
    return InvoiceOut.model_validate(invoice)


@app.get("/invoices/{invoice_id}/download")
"""
VALIDATOR_CHECKED = BUGGY_DEPENDENCIES.replace(
    "    query = select(Invoice).where(Invoice.company_id == company.id)\n",
    "    await require_membership(member, company, session)\n"
    "    query = select(Invoice).where(Invoice.company_id == company.id)\n",
).replace(
    "    invoice_id: int, company: CurrentCompany, session: DBSession\n",
    "    invoice_id: int, company: CurrentCompany, session: DBSession, member: CurrentMember\n",
)
ALL_BUGS = {
    "test_a_company_the_caller_is_not_in_is_refused_on_every_route",
    "test_a_membership_revoked_or_granted_takes_effect_at_once",
    "test_behaves_as_specified_in_any_sequence",
}
# A check in a route refuses the company an override of get_current_company gives it.
OVERRIDE = {"test_an_override_of_the_company_reaches_every_route"}

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (EX, "the bug as shipped: the company is whatever X-Company names", (FIX, SHIPPED), ALL_BUGS),
    (
        EX,
        "the header stays trusted; GET /invoices checks the membership itself",
        (
            APP + "\n\n" + ME_TO_LIST,
            MEMBER_OF + BUGGY_DEPENDENCIES + APP + "\n\n" + ME_TO_LIST.replace(LIST, LIST_CHECKED),
        ),
        ALL_BUGS | OVERRIDE,
    ),
    (
        EX,
        "the header stays trusted; the two routes of the ticket (list, download) check the membership",
        (
            APP + "\n\n" + ME_TO_LIST + BETWEEN + DOWNLOAD,
            MEMBER_OF
            + BUGGY_DEPENDENCIES
            + APP
            + "\n\n"
            + ME_TO_LIST.replace(LIST, LIST_CHECKED)
            + BETWEEN
            + DOWNLOAD_CHECKED,
        ),
        ALL_BUGS | OVERRIDE,
    ),
    (
        EX,
        "the header stays trusted; the invoice validator checks the membership, so list and add do not",
        (APP, MEMBER_OF + VALIDATOR_CHECKED + APP),
        ALL_BUGS | OVERRIDE,
    ),
    (
        EX,
        "the header is dropped: the company is the member's first membership, so a bookkeeper is stuck",
        (
            SIGNATURE + FIX,
            """) -> Company:
    ### BEGIN SOLUTION
    company = await session.scalar(
        select(Company)
        .join(Membership, Membership.company_id == Company.id)
        .where(Membership.member_id == member.id)
        .order_by(Company.id)
    )
""",
        ),
        {
            "test_each_member_lists_the_invoices_of_the_company_picked",
            "test_every_invoice_route_works_on_invoices_of_the_company_picked",
            *ALL_BUGS,
        },
    ),
    (
        EX,
        "the check asks whether anyone is a member of the company, not whether the caller is",
        (
            "        .where(Company.id == x_company, Membership.member_id == member.id)\n    )\n",
            "        .where(Company.id == x_company)\n        .limit(1)\n    )\n",
        ),
        ALL_BUGS,
    ),
    (
        EX,
        "each member's companies are looked up once and kept in a dict across requests",
        (
            HEAD + FIX,
            "MEMBER_COMPANIES: dict[int, set[int]] = {}  # member id: company ids\n\n\n"
            + HEAD
            + """\
    if member.id not in MEMBER_COMPANIES:
        query = select(Membership.company_id).where(Membership.member_id == member.id)
        MEMBER_COMPANIES[member.id] = set(await session.scalars(query))
    company = None
    if x_company in MEMBER_COMPANIES[member.id]:
        company = await session.get(Company, x_company)
""",
        ),
        {"test_a_membership_revoked_or_granted_takes_effect_at_once", "test_behaves_as_specified_in_any_sequence"},
    ),
    (
        EX,
        "a company the caller is not in gets 403, so it answers differently from a missing one",
        (
            FIX,
            """    company = await session.get(Company, x_company)
    if company is not None and await session.get(Membership, (member.id, company.id)) is None:
        raise HTTPException(403, "You are not a member of this company")
""",
        ),
        ALL_BUGS,
    ),
    (
        EX,
        "a company the caller is not in gets its own 404 message, so ids of companies leak",
        (
            FIX,
            """    company = await session.get(Company, x_company)
    if company is not None and await session.get(Membership, (member.id, company.id)) is None:
        raise HTTPException(404, "You are not a member of this company")
""",
        ),
        {"test_a_company_the_caller_is_not_in_is_refused_on_every_route"},
    ),
    (
        EX,
        "the membership is checked in a session of its own, outside the request's",
        (
            FIX,
            """    async with SessionLocal() as lookup:
        company = await lookup.scalar(
            select(Company)
            .join(Membership, Membership.company_id == Company.id)
            .where(Company.id == x_company, Membership.member_id == member.id)
        )
""",
        ),
        {"test_one_session_per_request"},
    ),
    (
        EX,
        "the company dependency asks for a fresh session (use_cache=False)",
        (
            "    session: DBSession,\n    x_company",
            "    session: Annotated[AsyncSession, Depends(get_session, use_cache=False)],\n    x_company",
        ),
        {"test_one_session_per_request"},
    ),
    (
        EX,
        "GET /invoices reads X-Company and checks the membership itself, not through CurrentCompany",
        (
            LIST,
            """async def list_invoices(
    member: CurrentMember, session: DBSession, x_company: Annotated[int, Header()]
) -> list[InvoiceOut]:
    company = await session.get(Company, x_company)
    if company is None or await session.get(Membership, (member.id, x_company)) is None:
        raise HTTPException(404, "Company not found")
""",
        ),
        {
            "test_every_invoice_route_uses_the_validator_and_the_company",
            "test_an_override_of_the_company_reaches_every_route",
        },
    ),
    (
        EX,
        "the validator loads the invoice by id and answers 403 for another company's",
        (
            """    query = select(Invoice).where(Invoice.company_id == company.id)
    invoice = await session.scalar(query.where(Invoice.id == invoice_id))
    if invoice is None:
        raise HTTPException(404, "Invoice not found")
""",
            """    invoice = await session.get(Invoice, invoice_id)
    if invoice is None:
        raise HTTPException(404, "Invoice not found")
    if invoice.company_id != company.id:
        raise HTTPException(403, "This invoice belongs to another company")
""",
        ),
        {
            "test_an_invoice_of_another_company_is_indistinguishable_from_a_missing_one",
            "test_behaves_as_specified_in_any_sequence",
            *OVERRIDE,
        },
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "the member's company ids first, then the company",
        [
            (
                FIX,
                """    mine = set(
        await session.scalars(
            select(Membership.company_id).where(Membership.member_id == member.id)
        )
    )
    company = await session.get(Company, x_company) if x_company in mine else None
""",
            ),
        ],
    ),
    (
        EX,
        "the membership row by its primary key",
        [
            (
                FIX,
                """    membership = await session.get(Membership, (member.id, x_company))
    company = None if membership is None else await session.get(Company, x_company)
""",
            ),
        ],
    ),
    (
        EX,
        "a membership validator as a sub-dependency of the company",
        [
            (
                HEAD + FIX,
                """async def get_membership(
    member: CurrentMember,
    session: DBSession,
    x_company: Annotated[int, Header(description="The company picked in the switcher")],
) -> Membership:
    membership = await session.get(Membership, (member.id, x_company))
    if membership is None:
        raise HTTPException(404, "Company not found")
    return membership


async def get_current_company(
    membership: Annotated[Membership, Depends(get_membership)], session: DBSession
) -> Company:
    ### BEGIN SOLUTION
    company = await session.get(Company, membership.company_id)
""",
            ),
        ],
    ),
    (
        EX,
        "the company derived from the memberships, X-Company only needed to choose among several",
        [
            (
                SIGNATURE + FIX,
                """    x_company: Annotated[int | None, Header()] = None,
) -> Company:
    ### BEGIN SOLUTION
    mine = (
        await session.scalars(
            select(Company)
            .join(Membership, Membership.company_id == Company.id)
            .where(Membership.member_id == member.id)
        )
    ).all()
    if x_company is None and len(mine) == 1:
        x_company = mine[0].id
    company = next((c for c in mine if c.id == x_company), None)
""",
            ),
        ],
    ),
    (
        EX,
        "an EXISTS subquery on the memberships",
        [
            (
                FIX,
                """    from sqlalchemy import exists

    is_member = exists().where(
        Membership.member_id == member.id, Membership.company_id == Company.id
    )
    company = await session.scalar(
        select(Company).where(Company.id == x_company, is_member)
    )
""",
            ),
        ],
    ),
]
