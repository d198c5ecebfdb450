"""Hidden checks for exercise 09, background work.

The welcome mail is scheduled once, runs after the handler and the response, goes through the
overridable mailer dependency, and a failing mailer changes nothing for the client.
"""

import book
from book.checks import check, expect, expect_response, resolved

EXERCISE = "09-background-work"


class RecordingMailer:
    def __init__(self):
        self.sent = []

    def send(self, to, subject):
        self.sent.append((to, subject))


class BrokenMailer:
    def send(self, to, subject):
        raise ConnectionError("mail server unreachable")


@check(points=2, hint="""POST /signup answers 201 with {"email": ...} and, once the request is over,
    exactly one mail ("<email>", "Welcome!") has been sent.""")
async def test_signup_sends_one_welcome_mail(notebook, client):
    response = await client.post("/signup", json={"email": "lin@example.com"})
    expect_response(response, status=201, json={"email": "lin@example.com"})
    expect(notebook.MAILER.sent == [("lin@example.com", "Welcome!")], called="POST /signup {email: lin@example.com}",
           got=f"mails sent: {notebook.MAILER.sent}", expected="[('lin@example.com', 'Welcome!')]")


@check(points=1, hint="""An invalid body is refused by the SignupIn model with 422 before your endpoint
    runs, so no task is scheduled and no mail is sent.""")
async def test_an_invalid_signup_sends_nothing(notebook, client):
    expect_response(await client.post("/signup", json={"email": "nobody"}), status=422)
    expect_response(await client.post("/signup", json={}), status=422)
    expect(not notebook.MAILER.sent, called="two invalid signups", got=f"mails sent: {notebook.MAILER.sent}",
           expected="no mail")


@check(points=2, hint="""Send the mail as a background task (tasks.add_task), not in the endpoint: it must
    run once, after the endpoint returned and after the response was sent.""")
async def test_the_mail_is_a_task_that_runs_after_the_response(app):
    trace = await book.trace(app, "POST", "/signup", json={"email": "kai@example.com"})
    kinds = [(event.kind, event.who, event.detail) for event in trace.events]
    started = [index for index, (kind, _, detail) in enumerate(kinds) if kind == "task" and detail == "started"]
    sent = next((index for index, (kind, who, _) in enumerate(kinds) if kind == "response" and who == "body"), None)
    returned = next((index for index, (kind, _, _) in enumerate(kinds) if kind == "returned"), None)
    ok = len(started) == 1 and sent is not None and returned is not None and started[0] > sent > returned
    expect(ok, called="POST /signup {email: kai@example.com}, traced",
           got=f"{len(started)} background task(s)" + (f", the first at step {started[0] + 1}" if started else ""),
           expected="one task, after the endpoint returned and the response was sent", seen=str(trace))


@check(points=2, hint="""The task must use the mailer the request got from MailerDep (get_mailer): pass it
    to add_task. A task that reads MAILER itself ignores overrides, so tests cannot catch its mail.""")
async def test_the_mailer_comes_through_the_dependency(notebook, app, client):
    recording = RecordingMailer()
    app.dependency_overrides[notebook.get_mailer] = lambda: recording
    expect_response(await client.post("/signup", json={"email": "mo@example.com"}), status=201)
    expect(recording.sent == [("mo@example.com", "Welcome!")] and not notebook.MAILER.sent,
           called="POST /signup {email: mo@example.com}, get_mailer overridden by a recording mailer",
           got=f"the override sent {recording.sent}, MAILER sent {notebook.MAILER.sent}",
           expected="the override sent one mail, MAILER none", seen=resolved(app, "POST /signup"))


@check(points=2, hint="""A failing mailer must not change the response (201) and must not escape the task:
    catch the exception in send_welcome and append the address to FAILED.""")
async def test_a_failing_mailer_changes_nothing_for_the_client(notebook, app, client):
    app.dependency_overrides[notebook.get_mailer] = BrokenMailer
    response = await client.post("/signup", json={"email": "ren@example.com"})
    expect_response(response, status=201, json={"email": "ren@example.com"},
                    called="POST /signup {email: ren@example.com}, the mailer always fails")
    escaped = response.extensions.get("app_error")
    expect(escaped is None and notebook.FAILED == ["ren@example.com"],
           called="POST /signup {email: ren@example.com}, the mailer always fails",
           got=f"FAILED = {notebook.FAILED}" + (f", and {type(escaped).__name__} escaped the task" if escaped else ""),
           expected="FAILED = ['ren@example.com'], and nothing escaped")
