"""Exercise 03-current-user: the mistakes its checks must catch, and correct answers written differently."""

EX = "03-current-user"
DIFFERENTIAL = "test_behaves_as_specified_in_any_sequence"
NAMES = "test_a_token_names_its_account"
BARE = "test_no_token_is_a_bare_bearer_challenge"
UNKNOWN = "test_an_unknown_token_is_invalid_on_every_route"
EXPIRY = "test_tokens_expire_by_the_clock"
REVOKED = "test_a_revoked_token_is_refused_from_the_next_request"
DEACTIVATED = "test_a_deactivated_account_is_forbidden"
PUBLIC = "test_the_public_route_shows_the_owner_more"
VALIDITY = "    if token is None or token.revoked or now >= token.expires_at:"
INVALID = """        raise challenge('Bearer error="invalid_token"')"""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        EX,
        "the token sent is compared with the stored fingerprint, unhashed",
        ("    wanted = fingerprint(credentials.credentials)", "    wanted = credentials.credentials"),
        {NAMES, UNKNOWN, EXPIRY, REVOKED, DEACTIVATED, PUBLIC, DIFFERENTIAL},
    ),
    (
        EX,
        "a token is still valid at the very second it expires",
        (VALIDITY, VALIDITY.replace(">=", ">")),
        {EXPIRY, DIFFERENTIAL},
    ),
    (
        EX,
        "expiry reads time.time(), not the clock dependency",
        (VALIDITY, VALIDITY.replace("now >=", "time.time() >=")),
        {EXPIRY, DEACTIVATED, DIFFERENTIAL},
    ),
    (
        EX,
        "a revoked token is still accepted",
        (VALIDITY, VALIDITY.replace(" or token.revoked", "")),
        {REVOKED, DIFFERENTIAL},
    ),
    (
        EX,
        "a deactivated account is answered 401, as if its token were bad",
        ("""        raise HTTPException(403, "This account is deactivated")""", INVALID),
        {DEACTIVATED, DIFFERENTIAL},
    ),
    (
        EX,
        'no token at all is answered with error="invalid_token"',
        ("""        raise challenge("Bearer")""", INVALID),
        {BARE, DIFFERENTIAL},
    ),
    (
        EX,
        "a bad token gets the bare Bearer challenge, with no error code",
        (f"{VALIDITY}\n{INVALID}", f'{VALIDITY}\n        raise challenge("Bearer")'),
        {UNKNOWN, EXPIRY, REVOKED, DEACTIVATED, DIFFERENTIAL},
    ),
    (
        EX,
        "a bad token is taken for no token: anonymous on the public route",
        (f"{VALIDITY}\n{INVALID}", f"{VALIDITY}\n        return None"),
        {UNKNOWN, EXPIRY, REVOKED, DEACTIVATED, DIFFERENTIAL},
    ),
    (
        EX,
        "the owner sees only the public photos, like everyone",
        (
            """    if visitor is None or visitor.account.id != owner.id:
        query = query.where(Photo.public)""",
            """    query = query.where(Photo.public)""",
        ),
        {PUBLIC, DIFFERENTIAL},
    ),
    (
        EX,
        "every logged-in account sees private photos",
        ("    if visitor is None or visitor.account.id != owner.id:", "    if visitor is None:"),
        {PUBLIC, DIFFERENTIAL},
    ),
    (
        EX,
        "revoking one token revokes every token of the account",
        (
            "    caller.token.revoked = True",
            "    mine = select(AccessToken).where(AccessToken.account_id == caller.account.id)\n"
            "    for each in await session.scalars(mine):\n"
            "        each.revoked = True",
        ),
        {REVOKED, DIFFERENTIAL},
    ),
    (
        EX,
        "the revocation is never committed",
        (
            """    caller.token.revoked = True
    await session.commit()""",
            """    caller.token.revoked = True
    await session.flush()""",
        ),
        {REVOKED, DIFFERENTIAL},
    ),
    (
        EX,
        "an unknown handle answers an empty list",
        ("""        raise HTTPException(404, "No such account")""", """        return []"""),
        {PUBLIC, DIFFERENTIAL},
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "the header read by hand with Header(), the scheme compared case-insensitively",
        [
            (
                """    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(read_bearer)],
    session: Db,
    now: Now,
) -> Caller | None:
    if credentials is None:
        return None
    wanted = fingerprint(credentials.credentials)""",
                """    session: Db,
    now: Now,
    authorization: Annotated[str | None, Header()] = None,
) -> Caller | None:
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    wanted = fingerprint(secret.strip())""",
            ),
            ("read_bearer = HTTPBearer(auto_error=False)\n", "from fastapi import Header\n"),
        ],
    ),
    (
        EX,
        "revoked by deleting the token's row",
        [("    caller.token.revoked = True", "    await session.delete(caller.token)")],
    ),
    (
        EX,
        "validity and expiry decided in SQL, the clock's time passed to the query",
        [
            (
                """    found = select(AccessToken).where(AccessToken.digest == wanted)
    token = await session.scalar(found)
    if token is None or token.revoked or now >= token.expires_at:""",
                """    found = select(AccessToken).where(
        AccessToken.digest == wanted, ~AccessToken.revoked, AccessToken.expires_at > now
    )
    token = await session.scalar(found)
    if token is None:""",
            )
        ],
    ),
    (
        EX,
        "one factory makes both dependencies; they return the account and the token as a tuple",
        [
            (
                """async def required_caller(
    caller: Annotated[Caller | None, Depends(optional_caller)],
) -> Caller:
    if caller is None:
        raise challenge("Bearer")
    return caller


SignedIn = Annotated[Caller, Depends(required_caller)]
Visitor = Annotated[Caller | None, Depends(optional_caller)]""",
                """def caller_dependency(required: bool):
    async def dependency(
        found: Annotated[Caller | None, Depends(optional_caller)],
    ) -> tuple[Account, AccessToken] | None:
        if found is None:
            if required:
                raise challenge("Bearer")
            return None
        return found.account, found.token

    return dependency


SignedIn = Annotated[tuple[Account, AccessToken], Depends(caller_dependency(True))]
Visitor = Annotated[
    tuple[Account, AccessToken] | None, Depends(caller_dependency(False))
]""",
            ),
            ("""    return {"handle": caller.account.handle}""", """    return {"handle": caller[0].handle}"""),
            ("    caller.token.revoked = True", "    caller[1].revoked = True"),
            (
                "    if visitor is None or visitor.account.id != owner.id:",
                "    if visitor is None or visitor[0].id != owner.id:",
            ),
        ],
    ),
]
