"""Exercise 03-current-user: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    ("03-current-user", "the sent token is compared with the stored hash, unhashed",
     ("User.token_hash == hash_token(credentials.credentials)", "User.token_hash == credentials.credentials"),
     {"test_known_tokens_give_the_caller", "test_the_scheme_is_case_insensitive", "test_the_stored_hash_is_not_a_token",
      "test_the_user_lookup_goes_through_the_session_dependency", "test_notes_are_the_callers_own"}),
    ("03-current-user", "an unknown token is echoed in the error message",
     ("""    if user is None:
        raise not_authenticated()""", """    if user is None:
        raise HTTPException(401, f"unknown token {credentials.credentials}", headers={"WWW-Authenticate": "Bearer"})"""),
     {"test_no_token_comes_back_in_any_response"}),
    ("03-current-user", "a missing header is answered 403",
     ("""    if credentials is None or not credentials.credentials:
        raise not_authenticated()""", """    if credentials is None or not credentials.credentials:
        raise HTTPException(403, "Not authenticated")"""),
     {"test_every_bad_header_is_401_with_the_bearer_challenge"}),
    ("03-current-user", "the user is looked up in a session of its own, not DBSession",
     ("    user = await session.scalar(select(User).where(User.token_hash == hash_token(credentials.credentials)))",
      "    async with SessionLocal() as own:\n"
      "        user = await own.scalar(select(User).where(User.token_hash == hash_token(credentials.credentials)))"),
     {"test_the_user_lookup_goes_through_the_session_dependency"}),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
]
