"""``python -m book.site``: build the site (what ``make book`` runs)."""

from book.site.build import main

raise SystemExit(main())
