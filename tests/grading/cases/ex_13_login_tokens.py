"""Exercise 13-login-tokens: the mistakes its checks must catch, and correct answers written differently."""

EX = "13-login-tokens"
DIFFERENTIAL = "test_behaves_as_specified_in_any_sequence"
LOGIN = "test_a_login_gives_a_token_that_names_the_person"
FAILED = "test_failed_logins_are_answered_as_specified"
ARGON2 = "test_passwords_are_argon2_hashes_made_with_the_settings"
UNKNOWN = "test_an_unknown_username_costs_what_a_wrong_password_costs"
SCOPES = "test_scopes_granted_are_what_was_asked_and_the_role_allows"
EXPIRY = "test_tokens_expire_by_the_clock"
LOGOUT = "test_logging_out_everywhere_ends_every_earlier_token"
FORGED = "test_forged_and_orphaned_tokens_are_invalid"
DISABLED = "test_a_disabled_account_is_forbidden_on_every_route"
OVERRIDE = "test_an_override_of_current_staff_reaches_every_route"

PASSWORD_CHECK = """    stored = NOBODY_HASH if person is None else person.password_hash
    if not passwords.verify(form.password, stored) or person is None:
        raise unauthorized("Bearer")"""
LOGIN_DISABLED = """    if not person.active:
        raise HTTPException(403, "This account is disabled")
    granted = """
GRANTED = """    granted = " ".join(sorted(set(form.scopes) & ROLES[person.role]))"""
DECODE = """        claims = jwt.decode(
            token,
            settings.signing_key,
            algorithms=["HS256"],  # never "none", never what the token says
            options={"verify_exp": False, "require": ["sub", "exp", "logouts"]},
        )
    except jwt.InvalidTokenError:
        raise unauthorized(INVALID) from None
    if now >= claims["exp"]:  # PyJWT's own check reads the machine's time, not clock
        raise unauthorized(INVALID)"""
PERSON = """    if person is None or claims["logouts"] != await logouts_of(session, person.id):"""
ACTIVE_THEN_SCOPE = """    if not person.active:
        raise HTTPException(403, "This account is disabled")
    held = set(str(claims.get("scope", "")).split())
    if not set(needed.scopes) <= held:
        challenge = f'Bearer error="insufficient_scope", scope="{needed.scope_str}"'
        raise HTTPException(
            403, "Missing scope", headers={"WWW-Authenticate": challenge}
        )"""
LEND = """@app.post("/loans", status_code=201)
async def lend(
    loan: Loan,
    person: Annotated[Staff, Security(current_staff, scopes=["loans:write"])],"""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        EX,
        "an unknown username is refused before any hashing: its answer comes sooner",
        (
            PASSWORD_CHECK,
            """    if person is None or not passwords.verify(form.password, person.password_hash):
        raise unauthorized("Bearer")""",
        ),
        {UNKNOWN},
    ),
    (
        EX,
        "the hasher keeps Argon2's defaults, not the settings' costs",
        ("    return PasswordHash((tuned,))", "    return PasswordHash.recommended()"),
        {ARGON2},
    ),
    (
        EX,
        "every scope asked for is granted, whatever the role",
        (GRANTED, """    granted = " ".join(sorted(set(form.scopes)))"""),
        {SCOPES, DIFFERENTIAL},
    ),
    (
        EX,
        "a login that asks for no scope gets all its role allows",
        (GRANTED, """    granted = " ".join(sorted((set(form.scopes) or ROLES[person.role]) & ROLES[person.role]))"""),
        {SCOPES, DIFFERENTIAL},
    ),
    (
        EX,
        "a token is still valid at the very second it expires",
        ("""    if now >= claims["exp"]:""", """    if now > claims["exp"]:"""),
        {EXPIRY, DIFFERENTIAL},
    ),
    (
        EX,
        "expiry left to PyJWT, which reads the machine's time, not clock",
        (
            DECODE,
            """        claims = jwt.decode(
            token,
            settings.signing_key,
            algorithms=["HS256"],
            options={"require": ["sub", "exp", "logouts"]},
        )
    except jwt.InvalidTokenError:
        raise unauthorized(INVALID) from None""",
        ),
        {EXPIRY, DIFFERENTIAL},
    ),
    (
        EX,
        "logging out everywhere is recorded, but tokens never compare with it",
        (PERSON, "    if person is None:"),
        {LOGOUT, DIFFERENTIAL},
    ),
    (
        EX,
        "the logout is never committed",
        ("    await session.commit()", "    await session.flush()"),
        {LOGOUT, DIFFERENTIAL},
    ),
    (
        EX,
        "a valid token of a disabled account is answered 401, as if the token were bad",
        (
            ACTIVE_THEN_SCOPE,
            ACTIVE_THEN_SCOPE.replace('HTTPException(403, "This account is disabled")', "unauthorized(INVALID)"),
        ),
        {DISABLED, DIFFERENTIAL},
    ),
    (
        EX,
        "the scope is checked before the account: a disabled account gets a scope challenge",
        (
            ACTIVE_THEN_SCOPE,
            """    held = set(str(claims.get("scope", "")).split())
    if not set(needed.scopes) <= held:
        challenge = f'Bearer error="insufficient_scope", scope="{needed.scope_str}"'
        raise HTTPException(
            403, "Missing scope", headers={"WWW-Authenticate": challenge}
        )
    if not person.active:
        raise HTTPException(403, "This account is disabled")""",
        ),
        {DISABLED, DIFFERENTIAL},
    ),
    (EX, "a disabled account still logs in", (LOGIN_DISABLED, "    granted = "), {FAILED, DIFFERENTIAL}),
    (
        EX,
        "a disabled account is told so before its password is checked",
        (
            PASSWORD_CHECK,
            """    if person is not None and not person.active:
        raise HTTPException(403, "This account is disabled")
"""
            + PASSWORD_CHECK,
        ),
        {FAILED, DIFFERENTIAL},
    ),
    (
        EX,
        "the signature is not verified: any token with the right claims is taken",
        (
            """            options={"verify_exp": False, """,
            """            options={"verify_signature": False, "verify_exp": False, """,
        ),
        {FORGED},
    ),
    (
        EX,
        "a token whose person was deleted crashes the app instead of being refused",
        (PERSON, """    if claims["logouts"] != await logouts_of(session, person.id):"""),
        {FORGED},
    ),
    (
        EX,
        "a bad token gets the bare Bearer challenge, with no error code",
        ("""INVALID = 'Bearer error="invalid_token"'""", "INVALID = 'Bearer'"),
        {EXPIRY, LOGOUT, FORGED, DIFFERENTIAL},
    ),
    (
        EX,
        "POST /loans decodes the token in a dependency of its own: an override of current_staff misses it",
        (
            LEND,
            """async def loan_writer(
    needed: SecurityScopes,
    token: Annotated[str, Depends(bearer_token)],
    session: Db,
    settings: SettingsDep,
    now: Now,
) -> Staff:
    return await current_staff(needed, token, session, settings, now)


@app.post("/loans", status_code=201)
async def lend(
    loan: Loan,
    person: Annotated[Staff, Security(loan_writer, scopes=["loans:write"])],""",
        ),
        {OVERRIDE},
    ),
    (
        EX,
        "GET /me leaves out the role",
        (
            """    return {"username": person.username, "role": person.role}""",
            """    return {"username": person.username}""",
        ),
        {LOGIN, OVERRIDE, DIFFERENTIAL},
    ),
]

OPAQUE_TABLE = """class IssuedToken(Table):
    \"\"\"A token handed out at login, kept only as its SHA-256.\"\"\"

    __tablename__ = "issued_tokens"
    digest: Mapped[str] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    scope: Mapped[str]
    expires_at: Mapped[float]


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()"""

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "opaque tokens stored hashed; logging out everywhere deletes the person's rows",
        [
            (
                """class LogoutCount(Table):
    \"\"\"How many times a person logged out everywhere: a token carries the count it was
    issued under, and a token whose count is behind is refused.\"\"\"

    __tablename__ = "logout_counts"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)""",
                "import hashlib\n\n\n" + OPAQUE_TABLE,
            ),
            (
                """async def logouts_of(session: AsyncSession, staff_id: int) -> int:
    row = await session.get(LogoutCount, staff_id)
    return 0 if row is None else row.count


""",
                "",
            ),
            (
                """    claims = {
        "sub": person.username,
        "scope": granted,
        "logouts": await logouts_of(session, person.id),
        "exp": int(now) + settings.token_minutes * 60,
    }
    token = jwt.encode(claims, settings.signing_key, algorithm="HS256")""",
                """    token = secrets.token_urlsafe(32)
    until = now + settings.token_minutes * 60
    session.add(IssuedToken(digest=digest_of(token), staff_id=person.id, scope=granted,
                            expires_at=until))
    await session.commit()""",
            ),
            (
                """    try:
        claims = jwt.decode(
            token,
            settings.signing_key,
            algorithms=["HS256"],  # never "none", never what the token says
            options={"verify_exp": False, "require": ["sub", "exp", "logouts"]},
        )
    except jwt.InvalidTokenError:
        raise unauthorized(INVALID) from None
    if now >= claims["exp"]:  # PyJWT's own check reads the machine's time, not clock
        raise unauthorized(INVALID)
    person = await session.scalar(select(Staff).where(Staff.username == claims["sub"]))
    if person is None or claims["logouts"] != await logouts_of(session, person.id):
        raise unauthorized(INVALID)""",
                """    issued = await session.get(IssuedToken, digest_of(token))
    if issued is None or now >= issued.expires_at:
        raise unauthorized(INVALID)
    person = await session.get(Staff, issued.staff_id)
    if person is None:
        raise unauthorized(INVALID)
    claims = {"scope": issued.scope}""",
            ),
            (
                """    row = await session.get(LogoutCount, person.id)
    if row is None:
        session.add(LogoutCount(staff_id=person.id, count=1))
    else:
        row.count += 1
    await session.commit()""",
                """    await session.execute(delete(IssuedToken).where(IssuedToken.staff_id == person.id))
    await session.commit()""",
            ),
            ("class IssuedToken(Table):", "from sqlalchemy import delete\n\n\nclass IssuedToken(Table):"),
        ],
    ),
    (
        EX,
        "current_staff is an instance of a class with __call__; the logout count kept in memory",
        [
            (
                """class LogoutCount(Table):
    \"\"\"How many times a person logged out everywhere: a token carries the count it was
    issued under, and a token whose count is behind is refused.\"\"\"

    __tablename__ = "logout_counts"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)""",
                "LOGOUTS: dict[int, int] = {}",
            ),
            (
                """    row = await session.get(LogoutCount, staff_id)
    return 0 if row is None else row.count""",
                "    return LOGOUTS.get(staff_id, 0)",
            ),
            (
                """async def current_staff(
    needed: SecurityScopes,
    token: Annotated[str, Depends(bearer_token)],
    session: Db,
    settings: SettingsDep,
    now: Now,
) -> Staff:""",
                """class StaffFromToken:
    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm

    async def __call__(
        self,
        needed: SecurityScopes,
        token: Annotated[str, Depends(bearer_token)],
        session: Db,
        settings: SettingsDep,
        now: Now,
    ) -> Staff:
        return await staff_from(needed, token, session, settings, now, self.algorithm)


async def staff_from(needed, token, session, settings, now, algorithm) -> Staff:""",
            ),
            (
                """            algorithms=["HS256"],  # never "none", never what the token says""",
                """            algorithms=[algorithm],""",
            ),
            (
                """    return person


Caller = """,
                """    return person


current_staff = StaffFromToken("HS256")
Caller = """,
            ),
            (
                """    row = await session.get(LogoutCount, person.id)
    if row is None:
        session.add(LogoutCount(staff_id=person.id, count=1))
    else:
        row.count += 1
    await session.commit()""",
                """    LOGOUTS[person.id] = LOGOUTS.get(person.id, 0) + 1""",
            ),
        ],
    ),
    (
        EX,
        "an unknown username hashes the password it was given; scopes carried as a list claim",
        [
            (
                """    stored = NOBODY_HASH if person is None else person.password_hash
    if not passwords.verify(form.password, stored) or person is None:
        raise unauthorized("Bearer")""",
                """    if person is None:
        passwords.hash(form.password)  # the same Argon2 work as a wrong password
        raise unauthorized("Bearer")
    if not passwords.verify(form.password, person.password_hash):
        raise unauthorized("Bearer")""",
            ),
            ("""        "scope": granted,""", """        "scopes": granted.split(),"""),
            (
                """    held = set(str(claims.get("scope", "")).split())""",
                """    held = set(claims.get("scopes", []))""",
            ),
        ],
    ),
    (
        EX,
        "the person, the account and the scope in three chained dependencies, current_staff on top",
        [
            (
                """async def current_staff(
    needed: SecurityScopes,
    token: Annotated[str, Depends(bearer_token)],
    session: Db,
    settings: SettingsDep,
    now: Now,
) -> Staff:""",
                """async def token_claims(
    token: Annotated[str, Depends(bearer_token)],
    session: Db,
    settings: SettingsDep,
    now: Now,
) -> tuple[Staff, dict]:""",
            ),
            (
                """    if not person.active:
        raise HTTPException(403, "This account is disabled")
    held = set(str(claims.get("scope", "")).split())""",
                """    return person, claims


async def enabled(
    found: Annotated[tuple[Staff, dict], Depends(token_claims)],
) -> tuple[Staff, dict]:
    if not found[0].active:
        raise HTTPException(403, "This account is disabled")
    return found


async def current_staff(
    needed: SecurityScopes,
    found: Annotated[tuple[Staff, dict], Depends(enabled)],
) -> Staff:
    person, claims = found
    held = set(str(claims.get("scope", "")).split())""",
            ),
        ],
    ),
]
