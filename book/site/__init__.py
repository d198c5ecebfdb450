"""The rendered course: the build (``python -m book.site``) and its two Sphinx extensions."""
