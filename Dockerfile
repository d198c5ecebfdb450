# The grading image: the pinned course (its grader, hidden checks and references), bubblewrap, and
# `python -m book grade` as the entry point. Build it from a clone of the course; grading needs no
# network. The image holds tests/checks/ and solutions/: keep it in a private registry.
#
#   docker build -t course-grader .
#   docker run --rm --network none \
#     -v "$PWD/submissions:/submissions:ro" -v "$PWD/grades:/out" course-grader --jobs 2
#
# grades every notebook under /submissions (each student's in a folder of their own, named like
# 01-typed-aliases.ipynb) and writes /out/grades.csv, /out/grades.jsonl and /out/summary.csv and
# summary.svg. Options after the image name go to `python -m book grade` (--jobs, --time-limit,
# --resume, --exercise). Each submission runs in a bubblewrap sandbox where Docker lets it make
# namespaces (--security-opt seccomp=unconfined --security-opt apparmor=unconfined); otherwise
# the report says so and the container is the isolation.
FROM python:3.12-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 grader \
 && mkdir /course /out /submissions && chown grader /course /out

WORKDIR /course
USER grader
# The pinned packages first (requirements.txt with constraints.txt, the course itself editable):
# a change to a notebook or a check does not install them again.
COPY --chown=grader requirements.txt constraints.txt pyproject.toml ./
COPY --chown=grader book/ book/
RUN python -m book.maintainer.install /course/.venv -r requirements.txt
COPY --chown=grader . .
RUN /course/.venv/bin/python -m book release --check

ENV PATH=/course/.venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1
ENTRYPOINT ["python", "-m", "book", "grade", "--under", "/submissions", "--csv", "/out/grades.csv", \
            "--jsonl", "/out/grades.jsonl", "--summary", "/out/summary"]
CMD ["--jobs", "2"]
