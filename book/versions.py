"""The library versions a page's outputs were produced with, said at the top of every chapter.

The line is an output like any other: strict nbval fails when the installed versions change
until the chapter is executed again, so a page never claims versions its outputs did not see.
"""

from importlib.metadata import version

LIBRARIES = {
    "fastapi": "FastAPI",
    "starlette": "Starlette",
    "pydantic": "Pydantic",
    "httpx": "httpx",
    "sqlalchemy": "SQLAlchemy",
}


def produced_with() -> str:
    names = ", ".join(f"{shown} {version(package)}" for package, shown in LIBRARIES.items())
    return f"Outputs produced with {names}."
