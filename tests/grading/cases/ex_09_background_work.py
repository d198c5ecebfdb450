"""Exercise 09-background-work: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    ("09-background-work", "the mail is sent in the endpoint, before the response",
     ("    tasks.add_task(send_welcome, mailer, body.email)", "    send_welcome(mailer, body.email)"),
     {"test_the_mail_is_a_task_that_runs_after_the_response"}),
    ("09-background-work", "the task uses the global MAILER, not the request's mailer",
     ("    tasks.add_task(send_welcome, mailer, body.email)", "    tasks.add_task(send_welcome, MAILER, body.email)"),
     {"test_a_failing_mailer_changes_nothing_for_the_client", "test_behaves_as_specified_in_any_sequence", "test_the_mailer_comes_through_the_dependency"}),
    ("09-background-work", "a failing mailer's error escapes the task",
     ("""    try:
        mailer.send(email, "Welcome!")
    except Exception:
        FAILED.append(email)""", """    mailer.send(email, "Welcome!")"""),
     {"test_a_failing_mailer_changes_nothing_for_the_client", "test_behaves_as_specified_in_any_sequence"}),
    ("09-background-work", "the task is scheduled twice", (
        "    tasks.add_task(send_welcome, mailer, body.email)\n",
        "    tasks.add_task(send_welcome, mailer, body.email)\n    tasks.add_task(send_welcome, mailer, body.email)\n"),
     {"test_a_failing_mailer_changes_nothing_for_the_client", "test_behaves_as_specified_in_any_sequence", "test_signup_sends_one_welcome_mail", "test_the_mail_is_a_task_that_runs_after_the_response", "test_the_mailer_comes_through_the_dependency"}),
    ("09-background-work", "the signup answers 200, not 201",
     ('@app.post("/signup", status_code=201)', '@app.post("/signup")'), {"test_a_failing_mailer_changes_nothing_for_the_client", "test_behaves_as_specified_in_any_sequence", "test_signup_sends_one_welcome_mail", "test_the_mailer_comes_through_the_dependency"}),
    ("09-background-work", "a failing mailer is swallowed without a word",
     ("    except Exception:\n        FAILED.append(email)", "    except Exception:\n        pass"), {"test_a_failing_mailer_changes_nothing_for_the_client", "test_behaves_as_specified_in_any_sequence"}),
    ("09-background-work", "the mail has the wrong subject",
     ('mailer.send(email, "Welcome!")', 'mailer.send(email, "Welcome")'), {"test_behaves_as_specified_in_any_sequence", "test_signup_sends_one_welcome_mail", "test_the_mailer_comes_through_the_dependency"}),
    ("09-background-work", "MailerDep wraps get_mailer in a lambda",
     ("MailerDep = Annotated[Mailer, Depends(get_mailer)]",
      "MailerDep = Annotated[Mailer, Depends(lambda: get_mailer())]"), {"test_a_failing_mailer_changes_nothing_for_the_client", "test_behaves_as_specified_in_any_sequence", "test_the_mailer_comes_through_the_dependency"}),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    ("09-background-work", "the task is a response's background, not BackgroundTasks", [
        ("""@app.post("/signup", status_code=201)
async def signup(body: SignupIn, mailer: MailerDep, tasks: BackgroundTasks) -> dict:
    tasks.add_task(send_welcome, mailer, body.email)
    return {"email": body.email}""", """from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask


@app.post("/signup", status_code=201)
async def signup(body: SignupIn, mailer: MailerDep) -> JSONResponse:
    welcome = BackgroundTask(send_welcome, mailer, body.email)
    return JSONResponse({"email": body.email}, status_code=201, background=welcome)"""),
    ]),
    ("09-background-work", "an async task", [
        ("def send_welcome(mailer: Mailer, email: str) -> None:", "async def send_welcome(mailer: Mailer, email: str) -> None:"),
    ]),
    ("09-background-work", "a response model and a sync endpoint", [
        ("""@app.post("/signup", status_code=201)
async def signup(body: SignupIn, mailer: MailerDep, tasks: BackgroundTasks) -> dict:
    tasks.add_task(send_welcome, mailer, body.email)
    return {"email": body.email}""", """class SignupOut(BaseModel):
    email: str


@app.post("/signup", status_code=201, response_model=SignupOut)
def signup(body: SignupIn, mailer: MailerDep, tasks: BackgroundTasks) -> SignupOut:
    tasks.add_task(send_welcome, mailer, email=body.email)
    return SignupOut(email=body.email)"""),
    ]),
    ("09-background-work", "the task is scheduled by a dependency", [
        ("""@app.post("/signup", status_code=201)
async def signup(body: SignupIn, mailer: MailerDep, tasks: BackgroundTasks) -> dict:
    tasks.add_task(send_welcome, mailer, body.email)
    return {"email": body.email}""", """def welcomer(tasks: BackgroundTasks, mailer: MailerDep):
    def welcome(email: str) -> None:
        tasks.add_task(send_welcome, mailer, email)

    return welcome


@app.post("/signup", status_code=201)
async def signup(body: SignupIn, welcome: Annotated[object, Depends(welcomer)]) -> dict:
    welcome(body.email)
    return {"email": body.email}"""),
    ]),
    ("09-background-work", "the failure is caught around the whole send, with a log line", [
        ("""    try:
        mailer.send(email, "Welcome!")
    except Exception:
        FAILED.append(email)""", """    import logging

    try:
        mailer.send(email, subject="Welcome!")
    except Exception as error:
        logging.getLogger("signup").debug("welcome to %s failed: %s", email, error)
        FAILED.append(email)"""),
    ]),
]
