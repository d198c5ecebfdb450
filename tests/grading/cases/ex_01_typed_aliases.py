"""Exercise 01-typed-aliases: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    ("01-typed-aliases", "the alias wraps pagination in a lambda",
     ("PageDep = Annotated[Page, Depends(pagination)]",
      "PageDep = Annotated[Page, Depends(lambda skip=0, limit=10: pagination(skip, limit))]"),
     # The lambda's parameters have no types: skip and limit arrive as strings and slicing fails.
     {"test_aliases_name_the_given_dependencies", "test_overriding_pagination_reaches_both_lists",
      "test_pagination_is_validated", "test_notes_skip_and_limit", "test_notes_filters", "test_tags"}),
    ("01-typed-aliases", "/about builds Settings itself instead of using the alias",
     ("async def about(settings: SettingsDep) -> dict:",
      "async def about() -> dict:\n    settings = Settings()"),
     {"test_overriding_settings_reaches_about"}),
    ("01-typed-aliases", "/notes ignores the filters",
     ("found = [note for note in NOTES if filters.match(note)]", "found = list(NOTES)"),
     {"test_notes_filters", "test_overriding_filters_reaches_notes"}),
    ("01-typed-aliases", "/tags keeps repeated tags",
     ('tags = sorted({tag for note in NOTES for tag in note["tags"]})',
      'tags = sorted(tag for note in NOTES for tag in note["tags"])'),
     {"test_tags", "test_overriding_pagination_reaches_both_lists"}),
    ("01-typed-aliases", "/notes builds NoteFilters from its own query parameters",
     ("async def list_notes(filters: FiltersDep, page: PageDep) -> list[dict]:",
      "async def list_notes(page: PageDep, q: str | None = None, tag: str | None = None) -> list[dict]:\n"
      "    filters = NoteFilters(q, tag)"),
     {"test_overriding_filters_reaches_notes"}),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
]
