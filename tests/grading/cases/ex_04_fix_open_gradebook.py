"""Exercise 04-fix-open-gradebook: the mistakes its checks must catch, and correct fixes written differently.

The bug is `teachers_only = [Depends(require_role)]`: the factory given to Depends uncalled. A
mutant is one replacement in one cell, so a workaround that edits `require_role` itself (a default
for `role`) defines it again, edited, in the routes cell just before the list, which is what the
learner's edit of the original amounts to for these two routes.
"""

EX = "04-fix-open-gradebook"

FIX = 'teachers_only = [Depends(require_role("teacher"))]'
SHIPPED = "teachers_only = [Depends(require_role)]"
# The end of the solution region and the PUT route's decorator, for edits that touch both.
REGION_TO_PUT = (
    FIX
    + """
### BUGGY
# teachers_only = [Depends(require_role)]
### END SOLUTION


@app.put("/classes/{class_id}/grades/{student_id}", dependencies=teachers_only)"""
)
PUT_ROUTE = '@app.put("/classes/{class_id}/grades/{student_id}", dependencies=teachers_only)'
DELETE_ROUTE = '@app.delete("/classes/{class_id}/grades/{student_id}", dependencies=teachers_only)'
SET_GRADE = """async def set_grade(
    student_id: int, change: GradeIn, school_class: MyClass, db: DB
) -> dict:"""
CLEAR_GRADE = "async def clear_grade(student_id: int, school_class: MyClass, db: DB) -> dict:"
CLEAR_RETURN = '    return {"class_id": school_class.id, "student_id": student_id, "grade": None}'

TEACHERS = "test_teachers_change_and_clear_the_grades_of_their_own_classes"
STUDENTS = "test_students_are_refused_whatever_the_link_adds"
SCHEMA = "test_no_route_documents_a_role_query_parameter"
ONCE = "test_the_role_check_runs_once_per_request"
OWN_GRADES = "test_students_read_their_own_grades"
ADMIN = "test_the_admin_manages_classes"
SEQUENCES = "test_behaves_as_the_grade_book_in_any_sequence"

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        EX,
        "the shipped code: the factory itself given to Depends, never called",
        (FIX, SHIPPED),
        {TEACHERS, STUDENTS, SCHEMA, ONCE, SEQUENCES},
    ),
    (
        EX,
        "a default for the factory's role: the 422 is gone, and so is every check",
        (
            FIX,
            '''def require_role(role: str = "teacher"):
    """A dependency that lets only the people with `role` through (403 for others)."""

    async def check_role(person: CurrentPerson) -> Person:
        if person.role != role:
            raise HTTPException(403, f"only a {role} may do this")
        return person

    return check_role


'''
            + SHIPPED,
        ),
        {STUDENTS, SCHEMA, ONCE, SEQUENCES},
    ),
    (
        EX,
        "the link's role checked, with a default: the query is trusted, and absent is fine",
        (
            FIX,
            """def role_in_link(role: str = "teacher") -> None:
    if role != "teacher":
        raise HTTPException(403, "only a teacher may do this")


teachers_only = [Depends(role_in_link)]""",
        ),
        {STUDENTS, SCHEMA, ONCE, SEQUENCES},
    ),
    (
        EX,
        "the link's role checked, required: teachers must add ?role=teacher, and so may anyone",
        (
            FIX,
            """def role_in_link(role: str) -> None:
    if role != "teacher":
        raise HTTPException(403, "only a teacher may do this")


teachers_only = [Depends(role_in_link)]""",
        ),
        {TEACHERS, STUDENTS, SCHEMA, ONCE, SEQUENCES},
    ),
    (
        EX,
        "the role check removed: teachers can change grades again, and so can students",
        (FIX, "teachers_only = []"),
        {STUDENTS, ONCE, SEQUENCES},
    ),
    (
        EX,
        "the check called on PUT only: DELETE keeps the uncalled factory",
        (
            REGION_TO_PUT,
            REGION_TO_PUT.replace(FIX, SHIPPED, 1).replace(
                "dependencies=teachers_only", 'dependencies=[Depends(require_role("teacher"))]'
            ),
        ),
        {TEACHERS, STUDENTS, SCHEMA, ONCE, SEQUENCES},
    ),
    (
        EX,
        "the check on PUT only, and none on DELETE: students clear grades",
        (
            REGION_TO_PUT,
            REGION_TO_PUT.replace(FIX, "teachers_only = []", 1).replace(
                "dependencies=teachers_only", 'dependencies=[Depends(require_role("teacher"))]'
            ),
        ),
        {STUDENTS, ONCE, SEQUENCES},
    ),
    (
        EX,
        "the factory wrapped in functools.partial: FastAPI calls it and gets a checker it never runs",
        (FIX, 'from functools import partial\n\nteachers_only = [Depends(partial(require_role, "teacher"))]'),
        {STUDENTS, ONCE, SEQUENCES},
    ),
    (
        EX,
        "the factory called inside a lambda: the checker is the lambda's value, never run",
        (FIX, 'teachers_only = [Depends(lambda: require_role("teacher"))]'),
        {STUDENTS, ONCE, SEQUENCES},
    ),
    (
        EX,
        "the role spelt Teacher: nobody may change a grade",
        (FIX, 'teachers_only = [Depends(require_role("Teacher"))]'),
        {TEACHERS, SEQUENCES},
    ),
    (
        EX,
        "the list fixed, and PUT also given a TeacherOnly parameter: two checkers, the role read twice",
        (
            SET_GRADE,
            """async def set_grade(
    teacher: TeacherOnly, student_id: int, change: GradeIn, school_class: MyClass, db: DB
) -> dict:""",
        ),
        {ONCE},
    ),
    (
        EX,
        "the teacher check put on the whole app: students and the admin are locked out of their routes",
        (
            'app = FastAPI(title="Grade book")',
            'app = FastAPI(title="Grade book", dependencies=[Depends(require_role("teacher"))])',
        ),
        {OWN_GRADES, ADMIN, ONCE, SEQUENCES},
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "the checker made once, named, and given to Depends",
        [
            (FIX, 'require_teacher = require_role("teacher")\nteachers_only = [Depends(require_teacher)]'),
        ],
    ),
    (
        EX,
        "a callable class instead of the factory",
        [
            (
                FIX,
                """class RequireRole:
    def __init__(self, role: str):
        self.role = role

    async def __call__(self, person: CurrentPerson) -> Person:
        if person.role != self.role:
            raise HTTPException(403, f"only a {self.role} may do this")
        return person


teachers_only = [Depends(RequireRole("teacher"))]""",
            ),
        ],
    ),
    (
        EX,
        "a dependency of its own for the teacher role",
        [
            (
                FIX,
                """async def teacher_only(person: CurrentPerson) -> None:
    if person.role != "teacher":
        raise HTTPException(403, "teachers only")


teachers_only = [Depends(teacher_only)]""",
            ),
        ],
    ),
    (
        EX,
        "the endpoints take the TeacherOnly alias, first, instead of dependencies=[...]",
        [
            (FIX, "teachers_only: list = []"),
            (
                SET_GRADE,
                """async def set_grade(
    teacher: TeacherOnly, student_id: int, change: GradeIn, school_class: MyClass, db: DB
) -> dict:""",
            ),
            (
                CLEAR_GRADE,
                """async def clear_grade(
    teacher: TeacherOnly, student_id: int, school_class: MyClass, db: DB
) -> dict:""",
            ),
        ],
    ),
    (
        EX,
        "the grade-changing routes on a router checked as a whole",
        [
            (
                FIX,
                """grading = APIRouter(prefix="/classes/{class_id}/grades",
                    dependencies=[Depends(require_role("teacher"))])""",
            ),
            (PUT_ROUTE, '@grading.put("/{student_id}")'),
            (DELETE_ROUTE, '@grading.delete("/{student_id}")'),
            (CLEAR_RETURN, CLEAR_RETURN + "\n\n\napp.include_router(grading)"),
        ],
    ),
    (
        EX,
        "a checking function bound to its role with functools.partial",
        [
            (
                FIX,
                """from functools import partial


async def has_role(role: str, person: CurrentPerson) -> Person:
    if person.role != role:
        raise HTTPException(403, f"only a {role} may do this")
    return person


teachers_only = [Depends(partial(has_role, "teacher"))]""",
            ),
        ],
    ),
]
