"""Hidden checks for exercise 09, background work.

The welcome mail is scheduled once, runs after the handler and the response, goes through the
overridable mailer dependency, and a failing mailer changes nothing for the client. The addresses
are made up per grade; the mails sent are read from the mailers in the learner's process. A
differential check then drives the learner's app and the reference with the same sequences of
signups (book.grader.differential).
"""

import anyio.from_thread
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Machine, differential  # noqa: F401  (a fixture)

EXERCISE = "09-background-work"
NAMES = ["lin", "kai", "mo", "ren", "ada", "grace", "noor", "tomas", "ines", "yuki"]
DOMAINS = ["example.com", "example.org", "mail.test", "school.example"]


@agent_side
def mails_sent(ctx):
    """What the notebook's MAILER sent, and what the check's own mailer sent (if there is one)."""
    own = getattr(ctx, "mailer", None)
    return {"MAILER": [list(mail) for mail in ctx.nb.MAILER.sent],
            "override": None if own is None else [list(mail) for mail in own.sent]}


@agent_side
def recording_mailer(ctx):
    """A mailer that records what it sends, kept as ctx.mailer; a dependency returning it."""

    class RecordingMailer:
        def __init__(self):
            self.sent = []

        def send(self, to, subject):
            self.sent.append((to, subject))

    ctx.mailer = RecordingMailer()

    def get_recording_mailer():
        return ctx.mailer

    return get_recording_mailer


@agent_side
def broken_mailer(ctx):
    """A dependency returning a mailer whose every send fails, as when the mail server is down."""

    class BrokenMailer:
        def send(self, to, subject):
            raise ConnectionError("mail server unreachable")

    return BrokenMailer


def new_address(rng):
    return f"{rng.choice(NAMES)}.{rng.randint(100, 999)}@{rng.choice(DOMAINS)}"


@check(points=2, hint="""POST /signup answers 201 with {"email": ...} and, once the request is over,
    exactly one mail (to that address, subject "Welcome!") has been sent.""")
async def test_signup_sends_one_welcome_mail(nb, client, rng):
    email = new_address(rng)
    response = await client.post("/signup", json={"email": email})
    expect_response(response, status=201, json={"email": email})
    sent = (await nb.call(mails_sent))["MAILER"]
    expect(sent == [[email, "Welcome!"]], called=f"POST /signup {{email: {email}}}", got=f"mails sent: {sent}",
           expected=f"[('{email}', 'Welcome!')]")


@check(points=1, hint="""An invalid body is refused by the SignupIn model with 422 before your endpoint
    runs, so no task is scheduled and no mail is sent.""")
async def test_an_invalid_signup_sends_nothing(nb, client, rng):
    not_an_address = new_address(rng).replace("@", " at ")
    for body in ({"email": not_an_address}, {}, {"mail": new_address(rng)}):
        expect_response(await client.post("/signup", json=body), status=422, called=f"POST /signup {body}")
    sent = (await nb.call(mails_sent))["MAILER"]
    expect(not sent, called="three invalid signups", got=f"mails sent: {sent}", expected="no mail")


@check(points=2, hint="""Send the mail as a background task, not in the endpoint: it must run once,
    after the endpoint returned and after the response was sent.""")
async def test_the_mail_is_a_task_that_runs_after_the_response(nb, rng):
    email = new_address(rng)
    trace = await nb.trace("POST", "/signup", json={"email": email})
    events = [(event["kind"], event["who"], event["detail"]) for event in trace.events]
    started = [index for index, (kind, _, detail) in enumerate(events) if kind == "task" and detail == "started"]
    sent = next((index for index, (kind, who, _) in enumerate(events) if kind == "response" and who == "body"), None)
    returned = next((index for index, (kind, _, _) in enumerate(events) if kind == "returned"), None)
    ok = len(started) == 1 and sent is not None and returned is not None and started[0] > sent > returned
    expect(ok, called=f"POST /signup {{email: {email}}}, traced",
           got=f"{len(started)} background task(s)" + (f", the first at step {started[0] + 1}" if started else ""),
           expected="one task, after the endpoint returned and the response was sent", seen=trace.text)


@check(points=2, hint="""The task must use the mailer the request got from MailerDep (get_mailer): hand
    that mailer to the task. A task that reads MAILER itself ignores overrides, so tests cannot catch
    its mail.""")
async def test_the_mailer_comes_through_the_dependency(nb, client, rng):
    email = new_address(rng)
    await nb.override("get_mailer", await nb.call(recording_mailer))
    expect_response(await client.post("/signup", json={"email": email}), status=201)
    sent = await nb.call(mails_sent)
    expect(sent["override"] == [[email, "Welcome!"]] and not sent["MAILER"],
           called=f"POST /signup {{email: {email}}}, get_mailer overridden by a recording mailer",
           got=f"the override sent {sent['override']}, MAILER sent {sent['MAILER']}",
           expected="the override sent one mail, MAILER none", seen=await nb.graph("POST /signup"))


@check(points=2, hint="""A failing mailer must not change the response (201) and must not escape the
    task: the task catches the error and records the address in FAILED.""")
async def test_a_failing_mailer_changes_nothing_for_the_client(nb, client, rng):
    email = new_address(rng)
    await nb.override("get_mailer", await nb.call(broken_mailer))
    response = await client.post("/signup", json={"email": email})
    called = f"POST /signup {{email: {email}}}, the mailer always fails"
    expect_response(response, status=201, json={"email": email}, called=called)
    escaped = response.extensions.get("app_error")
    failed = await nb.value("FAILED")
    expect(not escaped and failed == [email], called=called,
           got=f"FAILED = {failed}" + (f", and {escaped} escaped the task" if escaped else ""),
           expected=f"FAILED = ['{email}'], and nothing escaped")


@agent_side
def mail_state(ctx):
    """The mails MAILER sent and the addresses FAILED holds, in order."""
    return {"sent": [list(mail) for mail in ctx.nb.MAILER.sent], "failed": list(ctx.nb.FAILED)}


class Signups(Machine):
    """Any sequence of signups, valid or not, one by one or several at once, with the mailer working
    or failing, as the reference handles it: the answers, the mails sent, the addresses failed."""

    @rule(name=st.sampled_from(NAMES), number=st.integers(100, 999), domain=st.sampled_from(DOMAINS),
          valid=st.booleans())
    def sign_up(self, name, number, domain, valid):
        email = f"{name}.{number}@{domain}" if valid else f"{name}.{number} at {domain}"
        self.same(*self.send("POST", "/signup", json={"email": email}))

    @rule(count=st.integers(2, 4), number=st.integers(100, 999))
    def sign_up_at_once(self, count, number):
        emails = [f"{NAMES[index]}.{number}@{DOMAINS[0]}" for index in range(count)]
        self.step(f"{count} signups at once: {', '.join(emails)}")

        async def burst(nb_client):
            import asyncio

            return await asyncio.gather(*(nb_client.post("/signup", json={"email": email}) for email in emails))

        learner = anyio.from_thread.run(burst, self.current.learner.client)
        reference = anyio.from_thread.run(burst, self.current.reference.client)
        for mine, theirs in zip(learner, reference, strict=True):
            self.same(mine, theirs)

    @rule()
    def mailer_fails(self):
        self.step("get_mailer overridden by a mailer whose every send fails")
        self.call(lambda nb: self._override(nb, broken_mailer))

    @rule()
    def mailer_back(self):
        self.step("the override of get_mailer cleared")
        self.call(lambda nb: nb.clear_overrides())

    @staticmethod
    async def _override(nb, helper):
        await nb.override("get_mailer", await nb.call(helper))

    def tour(self):
        self.sign_up("ada", 101, DOMAINS[0], True)
        self.sign_up("kai", 102, DOMAINS[1], False)
        self.mails_agree()
        self.mailer_fails()
        self.sign_up("lin", 103, DOMAINS[2], True)
        self.mails_agree()
        self.mailer_back()
        self.sign_up_at_once(3, 104)
        self.mails_agree()

    @invariant()
    def mails_agree(self):
        learner, reference = self.call(lambda nb: nb.call(mail_state))
        # Mails of signups made at once may go in any order: the exercise fixes which, not when.
        self.agree("mails sent", sorted(learner["sent"]), sorted(reference["sent"]))
        self.agree("addresses in FAILED", sorted(learner["failed"]), sorted(reference["failed"]))


@check(points=3, hint="""In some sequence of signups, valid or not, several at once, with the mailer
    working or failing, your app answers or mails differently from what the exercise asks. Replay
    the sequence shown in your notebook, and compare each answer and the mails sent with the rules.""")
async def test_behaves_as_specified_in_any_sequence(differential):  # noqa: F811
    await differential.run(Signups, examples=5, steps=5)
